"""The method's losses as docs/method.md and BlurVae.Training/Losses/*.cs define them, written independently in plain
PyTorch: full complex spectra (torch.fft.fft2) where the C# side folds Rfft2's half spectrum, torch.roll where it
concatenates slices, the literal two-way softmax where it uses a sigmoid. Reductions: summed over pixels (frequencies)
and channels, averaged over the batch; focal frequency keeps its reference's mean. Images are [N, C, H, W] in [-1, 1].
"""
import json
import math
import os

import torch
import torch.nn.functional as F

WIENER_C = 0.025
BCE_EPS = 1e-7
WATSON_EPS = 1e-10
WATSON_MAX_SHIFT = 8


# ---- the blur model ----------------------------------------------------------------------------------------------

def kernel_otf(kernel, h, w):
    """F_k: the unnormalised DFT of each kernel [N, ks, ks] zero-padded to h×w and rolled so its centre is at (0, 0).
    Complex [N, h, w]; its values are the eigenvalues of the block-circulant blur matrix K."""
    n, ks, ks2 = kernel.shape
    if ks != ks2 or ks % 2 == 0 or ks > h or ks > w:
        raise ValueError(f"kernel must be [N, ks, ks] with ks odd and <= {h}x{w}, got {list(kernel.shape)}")
    r = ks // 2
    padded = F.pad(kernel, (0, w - ks, 0, h - ks))
    return torch.fft.fft2(torch.roll(padded, shifts=(-r, -r), dims=(1, 2)))


def blur(x, kernel):
    """Circular convolution x ∗ k per image (one kernel for all channels): F⁻¹(F(x)·F_k)."""
    otf = kernel_otf(kernel, x.shape[2], x.shape[3])[:, None]
    return torch.fft.ifft2(torch.fft.fft2(x) * otf).real


# ---- the method's terms ------------------------------------------------------------------------------------------

def wiener(x, x_hat, kernel, c=WIENER_C):
    """½ Σ_f |W_f|² |F(x) − F(x̂)|², W = conj(F_k)/(|F_k|² + C), orthonormal F over the full spectrum; batch mean."""
    err = torch.fft.fft2(x - x_hat, norm="ortho").abs().square()
    power = kernel_otf(kernel, x.shape[2], x.shape[3]).abs().square()
    gain = power / (power + c).square()
    return 0.5 * (err * gain[:, None]).sum() / x.shape[0]


def log_determinant(kernel, channels, h, w, eps):
    """½ log|Σ| ≈ C_img · Σ_f log|F_k,f + ε| over the full spectrum (ε added to the complex eigenvalue); batch mean."""
    otf = kernel_otf(kernel, h, w)
    return 0.5 * channels * torch.log((otf + eps).abs().square()).sum() / kernel.shape[0]


def log_determinant_exact(kernel, channels, h, w, c=WIENER_C):
    """−½ C_img Σ_f log|W_f|² for the Wiener filter with constant c; batch mean."""
    power = kernel_otf(kernel, h, w).abs().square()
    return 0.5 * channels * (2.0 * torch.log(power + c) - torch.log(power)).sum() / kernel.shape[0]


def kernel_fit(x, x_hat, kernel):
    """‖x ∗ k − x̂‖² (no ½), batch mean."""
    return (blur(x, kernel) - x_hat).square().sum() / x.shape[0]


def kl(mu, logvar):
    """−½ Σ (1 + log σ² − μ² − σ²), batch mean."""
    return -0.5 * (1.0 + logvar - mu.square() - logvar.exp()).sum() / mu.shape[0]


# ---- baselines ---------------------------------------------------------------------------------------------------

def l2(x, x_hat):
    return 0.5 * (x - x_hat).square().sum() / x.shape[0]


def l1(x, x_hat):
    return (x - x_hat).abs().sum() / x.shape[0]


def bce(x, x_hat):
    t = (x + 1.0) * 0.5
    p = torch.clamp((x_hat + 1.0) * 0.5, BCE_EPS, 1.0 - BCE_EPS)
    return -(t * torch.log(p) + (1.0 - t) * torch.log(1.0 - p)).sum() / x.shape[0]


def focal_frequency(x, x_hat, alpha=1.0):
    """Jiang et al.'s FFL with its defaults: mean over N·C·H·W of w·|ΔF|², w = (|ΔF|/max)^α detached (orthonormal F)."""
    diff = torch.fft.fft2(x_hat - x, norm="ortho")
    dist = diff.real.square() + diff.imag.square()
    with torch.no_grad():
        weight = torch.sqrt(dist) ** alpha
        weight = weight / weight.amax(dim=(-2, -1), keepdim=True)
        weight[torch.isnan(weight)] = 0.0
        weight = weight.clamp(0.0, 1.0)
    return (weight * dist).mean()


def focal_frequency_training(x, x_hat, weight=100.0, alpha=1.0):
    """What --loss ffl trains on: L2 + weight·(C·H·W/2)·FFL (the reference's mean-MSE + 100·FFL rescaled)."""
    scale = 0.5 * x.shape[1] * x.shape[2] * x.shape[3]
    return l2(x, x_hat) + focal_frequency(x, x_hat, alpha) * (weight * scale)


# ---- Watson-DFT (Czolbe et al. 2020) -----------------------------------------------------------------------------

_WATSON_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "BlurVae.Training", "Losses",
                           "WatsonData")


class WatsonChannel:
    """One channel's learned parameters: t = exp(t̃), w = sigmoid(w̃), α, β, phase weights exp(w̃_φ) with the four
    real coefficients zeroed."""

    def __init__(self, d, prefix=""):
        self.b = int(d[prefix + "blocksize"])
        self.t = torch.tensor(d[prefix + "t_tild"], dtype=torch.float64).exp()
        self.alpha = float(d[prefix + "alpha"])
        self.w = 1.0 / (1.0 + math.exp(-float(d[prefix + "w_tild"])))
        self.beta = float(d[prefix + "beta"])
        wp = torch.tensor(d[prefix + "w_phase_tild"], dtype=torch.float64).exp()
        half = self.b // 2
        for u, v in ((0, 0), (0, half), (half, 0), (half, half)):
            wp[u, v] = 0.0
        self.phase_weights = wp

    def distances(self, target, inp):
        """target, inp [N, 1, H, W] in [0, 1] → [N]."""
        b, n = self.b, target.shape[0]
        c0 = _block_rfft(target, b)
        c1 = _block_rfft(inp, b)
        amp0, amp1 = _amplitude(c0), _amplitude(c1)
        dc0 = amp0[:, :, :1, :1]
        avg_lum = dc0.mean()
        t = self.t.to(target)
        t_l = t * ((dc0 + WATSON_EPS) / (avg_lum + WATSON_EPS)) ** self.alpha
        masked = (amp0 + WATSON_EPS) ** self.w * t_l ** (1.0 - self.w)
        stacked = torch.stack([t_l, masked], dim=-1)
        s = (stacked * torch.softmax(stacked, dim=-1)).sum(-1)
        pooled = ((torch.abs((amp0 - amp1) / s) + WATSON_EPS) ** self.beta + WATSON_EPS).sum(dim=(1, 2, 3))
        watson = pooled ** (1.0 / self.beta)
        phase0 = torch.atan2(c0.imag, c0.real + WATSON_EPS)
        phase1 = torch.atan2(c1.imag, c1.real + WATSON_EPS)
        angle = torch.acos(torch.cos(phase0 - phase1) * (1.0 - WATSON_EPS * 1e3))
        phase = (angle * self.phase_weights.to(target)).sum(dim=(1, 2, 3))
        return (watson + phase).reshape(n)


def _block_rfft(image, b):
    """[N, 1, H, W] → rfft2 of each b×b block / b², complex [N, K, b, b/2+1]."""
    n, _, h, w = image.shape
    blocks = image.reshape(n, h // b, b, w // b, b).permute(0, 1, 3, 2, 4).reshape(n, -1, b, b)
    return torch.fft.rfft2(blocks) / (b * b)


def _amplitude(c):
    return torch.sqrt((c.real + WATSON_EPS).square() + (c.imag + WATSON_EPS).square())


class WatsonDft:
    """Batch mean of the per-image Watson-DFT distance; gray (C = 1) or colour (C = 3) learned model. shift = (dy, dx)
    replicate-pads by 4 and crops at that offset (the reference's random shift, drawn by the caller); None = no shift."""

    def __init__(self, channels, data_dir=_WATSON_DIR):
        if channels == 1:
            with open(os.path.join(data_dir, "gray_watson_fft_trial0.json")) as f:
                self.gray = WatsonChannel(json.load(f))
            self.color = None
        elif channels == 3:
            with open(os.path.join(data_dir, "rgb_watson_fft_trial0.json")) as f:
                d = json.load(f)
            self.gray = None
            self.transform = torch.tensor(d["to_YCbCr.transform"], dtype=torch.float64)  # [rgb, ycc]
            self.bias = torch.tensor(d["to_YCbCr.bias"], dtype=torch.float64)
            self.weights = torch.softmax(torch.tensor(d["w_tild"], dtype=torch.float64), dim=0)
            self.color = [WatsonChannel(d, p) for p in ("ly.", "lcb.", "lcr.")]
        else:
            raise ValueError(f"Watson-DFT has a grayscale (1) and a colour (3) model, not {channels} channels")

    def __call__(self, x, x_hat, shift=None):
        target, inp = (x + 1.0) * 0.5, (x_hat + 1.0) * 0.5
        if shift is not None:
            dy, dx = shift
            target, inp = _shift(target, dy, dx), _shift(inp, dy, dx)
        if self.gray is not None:
            return self.gray.distances(target, inp).mean()
        t, bias = self.transform.to(x), self.bias.to(x)
        ycc0 = torch.einsum("nkhw,kc->nchw", target, t) + bias[None, :, None, None]
        ycc1 = torch.einsum("nkhw,kc->nchw", inp, t) + bias[None, :, None, None]
        total = 0
        for ch, model in enumerate(self.color):
            total = total + model.distances(ycc0[:, ch:ch + 1], ycc1[:, ch:ch + 1]) * float(self.weights[ch])
        return total.mean()


def _shift(image, dy, dx):
    h, w, pad = image.shape[2], image.shape[3], WATSON_MAX_SHIFT // 2
    padded = F.pad(image, (pad, pad, pad, pad), mode="replicate")
    return padded[:, :, dy:dy + h, dx:dx + w]

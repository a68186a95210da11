"""Architectures A and B and the kernel generator G_γ, layer for layer as BlurVae.Training/Models/*.cs builds them
(docs/architectures.md). Module names equal the C# checkpoint names, so a C# state dict loads 1:1 (prefixes `vae.` and
`kernel_generator.`). Initialisation is PyTorch's default; the cross-checks overwrite every weight with C#'s anyway.
"""
import torch
from torch import nn


def _log2_side(side):
    if side < 4 or side & (side - 1):
        raise ValueError(f"--side must be a power of two >= 4 (got {side})")
    return side.bit_length() - 1


def _downsampling_encoder(image_channels, channels):
    layers = []
    cin = image_channels
    for c in channels:
        layers += [nn.Conv2d(cin, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.LeakyReLU(0.2)]
        cin = c
    return nn.Sequential(*layers)


class Vae(nn.Module):
    """z = μ + exp(½ log σ²)·ε, x̂ = decode(z); subclasses build encode/decode."""

    def __init__(self, image_channels, side, latent):
        super().__init__()
        if latent < 1:
            raise ValueError(f"latent dimension must be positive (got {latent})")
        self.image_channels, self.side, self.latent = image_channels, side, latent

    def run(self, x, eps):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode(z), mu, logvar, z

    def forward(self, x):
        return self.decode(self.encode(x)[0])


class ArchitectureA(Vae):
    def __init__(self, image_channels, side, latent, channels, mlp_hidden=512):
        super().__init__(image_channels, side, latent)
        blocks = len(channels)
        if blocks == 0 or any(c < 1 for c in channels):
            raise ValueError("--channels must list positive channel counts")
        if side >> blocks < 1 or side % (1 << blocks):
            raise ValueError(f"{blocks} stride-2 blocks do not divide a {side}x{side} input")
        _log2_side(side)
        self.cn, self.s = channels[-1], side >> blocks
        flat = self.cn * self.s * self.s
        self.encoder = _downsampling_encoder(image_channels, channels)
        self.encoder_mlp = nn.Sequential(nn.Linear(flat, mlp_hidden), nn.LeakyReLU(0.2), nn.Linear(mlp_hidden, 2 * latent))
        self.decoder_mlp = nn.Sequential(nn.Linear(latent, mlp_hidden), nn.LeakyReLU(0.2), nn.Linear(mlp_hidden, flat),
                                         nn.LeakyReLU(0.2))
        rev = list(reversed(channels))
        layers = []
        for i, cin in enumerate(rev):
            cout = rev[i + 1] if i + 1 < len(rev) else rev[i]
            layers += [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(rev[-1], image_channels, 3, stride=1, padding=1), nn.Tanh()]
        self.decoder = nn.Sequential(*layers)

    def encode(self, x):
        mu, logvar = self.encoder_mlp(self.encoder(x).flatten(1)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        return self.decoder(self.decoder_mlp(z).reshape(z.shape[0], self.cn, self.s, self.s))


class ArchitectureB(Vae):
    def __init__(self, image_channels, side, latent, channels):
        super().__init__(image_channels, side, latent)
        if len(channels) == 0 or any(c < 1 for c in channels):
            raise ValueError("--channels must list positive channel counts")
        _log2_side(side)
        blocks = len(channels)
        if side >> blocks < 1:
            raise ValueError(f"{blocks} stride-2 blocks do not fit a {side}x{side} input")
        self.cn, self.s = channels[-1], side >> blocks
        flat = self.cn * self.s * self.s
        self.encoder = _downsampling_encoder(image_channels, channels)
        self.to_stats = nn.Linear(flat, 2 * latent)
        self.from_latent = nn.Linear(latent, flat)
        rev = list(reversed(channels))
        layers = []
        for i, cin in enumerate(rev):
            cout = rev[i + 1] if i + 1 < len(rev) else rev[i]
            layers += [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                       nn.Conv2d(cin, cout, 3, stride=1, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(rev[-1], image_channels, 3, stride=1, padding=1), nn.Tanh()]
        self.decoder = nn.Sequential(*layers)

    def encode(self, x):
        mu, logvar = self.to_stats(self.encoder(x).flatten(1)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        return self.decoder(self.from_latent(z).reshape(z.shape[0], self.cn, self.s, self.s))


class KernelGenerator(nn.Module):
    """G_γ(z): Linear(latent, 1000) → ReLU6 → Linear(1000, k²) → softmax → [N, k, k]."""

    def __init__(self, latent, kernel_size, hidden=1000):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"--kernel-size must be a positive odd number (got {kernel_size})")
        self.kernel_size = kernel_size
        self.hidden = nn.Linear(latent, hidden)
        self.output = nn.Linear(hidden, kernel_size * kernel_size)

    def forward(self, z):
        logits = self.output(nn.functional.relu6(self.hidden(z)))
        return torch.softmax(logits, dim=1).reshape(z.shape[0], self.kernel_size, self.kernel_size)


def default_channels_a(side, width=1.0):
    """[64, 128, 256, 512]·width cut or extended (repeating 512) to log2(side/4) blocks (ArchitectureA.DefaultChannels)."""
    blocks = max(1, _log2_side(side) - 2)
    base = [64, 128, 256, 512]
    return [max(1, _round_half_even(base[min(i, 3)] * width)) for i in range(blocks)]


def default_channels_b(width=1.0):
    return [max(1, _round_half_even(c * width)) for c in [32, 64, 128, 256, 512]]


def _round_half_even(v):
    # C#'s Math.Round rounds half to even, as Python's round does.
    return int(round(v))


def build_vae(arch, image_channels, side, latent, channels, mlp_hidden=512):
    arch = arch.upper()
    if arch == "A":
        return ArchitectureA(image_channels, side, latent, channels, mlp_hidden)
    if arch == "B":
        return ArchitectureB(image_channels, side, latent, channels)
    raise ValueError(f"--arch must be A or B (got {arch})")

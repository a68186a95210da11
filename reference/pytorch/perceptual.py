"""torchvision's perceptual networks with random weights, for the Reference tests of BlurVae.Training/Perceptual.

Usage: perceptual.py NETWORK OUT.safetensors SEED SIDE [CHANNELS]. Needs torchvision (Debian's python3-torchvision 0.14).
Writes float64 tensors under our names (torchvision's: features.0.weight, …), a random input batch in [-1, 1]
(CHANNELS 1 or 3, default 3) and:
  vgg16, alexnet: the taps (VGG16: relu1_2 … relu5_3; AlexNet: the five ReLUs) after the ImageNet normalisation,
    AlexNet's whole `features` output, and the input gradient of L = sum over taps of mean(tap²).
  lpips-vgg, lpips-alex: random non-negative heads lin0 … lin4 ([1, C, 1, 1]), a second batch, the per-image LPIPS
    distance d(input, input1) and its gradient with respect to input1 (of sum(d)).
The LPIPS reference is written from the lpips package's formula (v0.1, lpips=True, spatial=False; Zhang et al. 2018,
eq. 1, and the lpips package's pretrained_networks and lpips modules): ScalingLayer (x - shift) / scale with
shift = [-.030, -.088, -.188], scale = [.458, .448, .450]; per tap f_l, normalize_tensor(f) = f / (sqrt(sum_c f²) + 1e-10);
d = sum_l spatial_average(lin_l((n0_l - n1_l)²)) with lin_l a bias-free 1x1 convolution to one channel.
"""
import os
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

TAPS = {"vgg16": [3, 8, 15, 22, 29], "alexnet": [1, 4, 7, 9, 11]}
MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)
SHIFT = torch.tensor([-.030, -.088, -.188], dtype=torch.float64).view(1, 3, 1, 1)
SCALE = torch.tensor([.458, .448, .450], dtype=torch.float64).view(1, 3, 1, 1)


def rgb(x):
    return x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x


def taps(features, h, indices):
    out = []
    for i, layer in enumerate(features):
        if i > indices[-1]:
            break
        h = layer(h)
        if i in indices:
            out.append(h)
    return out


def normalize_tensor(f, eps=1e-10):
    return f / (torch.sqrt(torch.sum(f ** 2, dim=1, keepdim=True)) + eps)


def lpips(features, indices, heads, x0, x1):
    t0 = taps(features, (rgb(x0) - SHIFT) / SCALE, indices)
    t1 = taps(features, (rgb(x1) - SHIFT) / SCALE, indices)
    return sum(F.conv2d((normalize_tensor(a) - normalize_tensor(b)) ** 2, w).mean(dim=[2, 3])
               for a, b, w in zip(t0, t1, heads)).view(-1)


def main():
    network, out, seed, side = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    channels = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    start = time.time()
    torch.manual_seed(seed)
    base = {"vgg16": "vgg16", "alexnet": "alexnet", "lpips-vgg": "vgg16", "lpips-alex": "alexnet"}[network]
    features = getattr(torchvision.models, base)(weights=None).features.double().eval()
    indices = TAPS[base]
    x = (torch.rand(2, channels, side, side, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    tensors = {f"features.{k}": v for k, v in features.state_dict().items()}
    if network.startswith("lpips-"):
        chans = [features[i - 1].out_channels for i in indices]
        heads = [torch.rand(1, c, 1, 1, dtype=torch.float64) for c in chans]
        x1 = (torch.rand(2, channels, side, side, dtype=torch.float64) * 2 - 1).requires_grad_(True)
        d = lpips(features, indices, heads, x, x1)
        d.sum().backward()
        tensors.update({f"lin{i}.weight": w for i, w in enumerate(heads)})
        tensors.update({"input1": x1.detach(), "distance": d.detach(), "input1_grad": x1.grad})
    else:
        t = taps(features, ((rgb(x) + 1) / 2 - MEAN) / STD, indices)
        loss = sum((a * a).mean() for a in t)
        loss.backward()
        for i, a in zip(indices, t):
            tensors[f"tap.{i}"] = a.detach()
        with torch.no_grad():
            tensors["output"] = features(((rgb(x) + 1) / 2 - MEAN) / STD)
        tensors["input_grad"] = x.grad
    tensors["input"] = x.detach()
    safetensors_io.write(out, tensors, {"torch": torch.__version__, "torchvision": torchvision.__version__,
                                        "network": network, "seconds": f"{time.time() - start:.2f}"})


if __name__ == "__main__":
    main()

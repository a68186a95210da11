"""torchvision's VGG16 features with random weights, for the Reference tests of our Vgg16Features.

Usage: perceptual.py OUT.safetensors SEED SIDE. Writes the random weights (torchvision's names, float64), a random input
batch in [-1, 1], the five LPIPS taps (relu1_2 … relu5_3) after the ImageNet normalisation, and the input gradient of
L = sum over taps of mean(tap²). Needs torchvision (Debian's python3-torchvision 0.14).
"""
import os
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

TAPS = [3, 8, 15, 22, 29]
MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)


def main():
    out, seed, side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    start = time.time()
    torch.manual_seed(seed)
    features = torchvision.models.vgg16(weights=None).features.double().eval()
    x = (torch.rand(2, 3, side, side, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    h = ((x + 1) / 2 - MEAN) / STD
    taps = []
    for i, layer in enumerate(features):
        if i > TAPS[-1]:
            break
        h = layer(h)
        if i in TAPS:
            taps.append(h)
    loss = sum((t * t).mean() for t in taps)
    loss.backward()
    tensors = {f"features.{k}": v for k, v in features.state_dict().items()}
    tensors["input"] = x.detach()
    for i, t in zip(TAPS, taps):
        tensors[f"tap.{i}"] = t.detach()
    tensors["input_grad"] = x.grad
    safetensors_io.write(out, tensors, {"torch": torch.__version__, "torchvision": torchvision.__version__,
                                        "seconds": f"{time.time() - start:.2f}"})


if __name__ == "__main__":
    main()

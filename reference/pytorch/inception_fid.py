"""The FID Inception-v3 with random weights, for the Reference tests of our FidInceptionV3 and its ops.

Usage: inception_fid.py OUT.safetensors SEED SIDE RESIZE. Builds pytorch-fid's FID variant of Inception-v3 from
torchvision 0.14's blocks (the FID blocks below follow pytorch-fid's fid_inception_v3: FIDInceptionA/C/E_1 average-pool
without counting the padding, FIDInceptionE_2 max-pools its pool branch), with random float64 weights and random
batch-norm statistics, and writes: the weights (torchvision's names, num_batches_tracked dropped), a random input batch
of 2 images in [-1, 1] at SIDE × SIDE, and pool3 (the 2048-d features) computed as pytorch-fid does: with RESIZE = 1 the
[0, 1] image (x + 1)/2 is resized to 299 × 299 (bilinear, align_corners=False) and mapped back by 2x - 1; with
RESIZE = 0 the input goes in at its own size. Also the ops alone on a random [2, 3, 7, 9] tensor ("ops.*"): pools with
and without padding counted, per-axis windows, adaptive windows that overlap, resizes down and up.
Needs torchvision (Debian's python3-torchvision 0.14).
"""
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
import torchvision
from torchvision.models import inception as tvi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def avg_pool_no_pad(x):
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(tvi.InceptionA):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(avg_pool_no_pad(x))
        return torch.cat([b1, b5, b3, bp], 1)


class FIDInceptionC(tvi.InceptionC):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d7 = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d7 = layer(d7)
        bp = self.branch_pool(avg_pool_no_pad(x))
        return torch.cat([b1, b7, d7, bp], 1)


class FIDInceptionE1(tvi.InceptionE):
    def pool(self, x):
        return avg_pool_no_pad(x)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        bp = self.branch_pool(self.pool(x))
        return torch.cat([b1, b3, d, bp], 1)


class FIDInceptionE2(FIDInceptionE1):
    def pool(self, x):
        return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


def fid_inception():
    net = tvi.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE1(1280)
    net.Mixed_7c = FIDInceptionE2(2048)
    return net


def randomise(net):
    """He-scaled convolutions and random batch-norm affine and running statistics, so no layer is an identity."""
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            fan_in = m.weight[0].numel()
            torch.nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_in))
        elif isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0.0, 0.1)
            m.running_mean.normal_(0.0, 0.1)
            m.running_var.uniform_(0.5, 1.5)


def pool3(net, x, resize):
    """pytorch-fid's InceptionV3 with output_blocks=[3] on images in [-1, 1] (its [0, 1] input is (x + 1)/2)."""
    if resize:
        x01 = (x + 1) / 2
        x = F.interpolate(x01, size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1
    for layer in (net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3):
        x = layer(x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    x = net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(x))
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
                 "Mixed_7a", "Mixed_7b", "Mixed_7c"):
        x = getattr(net, name)(x)
    return F.adaptive_avg_pool2d(x, output_size=(1, 1)).flatten(1)


def ops(tensors):
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    tensors["ops.x"] = x
    tensors["ops.avg_k3_s2_p1_count_pad"] = F.avg_pool2d(x, 3, 2, 1, count_include_pad=True)
    tensors["ops.avg_k3_s1_p1_no_pad"] = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    tensors["ops.max_k2x3_s2x1_p1"] = F.max_pool2d(x, (2, 3), (2, 1), (1, 1))
    tensors["ops.max_k3_s2"] = F.max_pool2d(x, 3, 2)
    tensors["ops.adaptive_avg_3x4"] = F.adaptive_avg_pool2d(x, (3, 4))
    tensors["ops.adaptive_avg_5x11"] = F.adaptive_avg_pool2d(x, (5, 11))
    tensors["ops.resize_5x4"] = F.interpolate(x, size=(5, 4), mode="bilinear", align_corners=False)
    tensors["ops.resize_11x13"] = F.interpolate(x, size=(11, 13), mode="bilinear", align_corners=False)


def main():
    out, seed, side, resize = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    start = time.time()
    torch.manual_seed(seed)
    net = fid_inception().double()
    randomise(net)
    net.eval()
    x = torch.rand(2, 3, side, side, dtype=torch.float64) * 2 - 1
    with torch.no_grad():
        features = pool3(net, x, resize)
    tensors = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked") and not k.startswith("fc.")}
    tensors["input"] = x
    tensors["pool3"] = features
    ops(tensors)
    safetensors_io.write(out, tensors, {"torch": torch.__version__, "torchvision": torchvision.__version__,
                                        "seconds": f"{time.time() - start:.2f}"})


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes pretrained perceptual-network weights as safetensors with the names BlurVae's engine uses.

Run it where torchvision can download ImageNet weights (BlurVae's machines cannot):
    python3 tools/export-weights.py vgg16 vgg16.safetensors
BlurVae reads the file with `Vgg16Features.Load` (torchvision's parameter names: features.0.weight, …), float32.
Implemented today: vgg16 (torchvision IMAGENET1K_V1) and fid-inception (pytorch-fid's FID Inception-v3, for
`blurvae eval --inception-weights FILE`: python3 tools/export-weights.py fid-inception pt_inception.safetensors).
"""
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference", "pytorch"))
import safetensors_io  # noqa: E402


def vgg16():
    model = torchvision.models.vgg16(weights=torchvision.models.VGG16_Weights.IMAGENET1K_V1)
    return {f"features.{k}": v.float() for k, v in model.features.state_dict().items()}


def fid_inception():
    """pytorch-fid's FID Inception-v3 (pt_inception-2015-12-05), which `blurvae eval --inception-weights` reads.

    pytorch-fid's parameter names are torchvision's (Mixed_5b.branch1x1.conv.weight, …); the 1008-class fc head and
    the batch norms' num_batches_tracked are not used for pool3 and are dropped. Needs `pip install pytorch-fid`.
    """
    from pytorch_fid.inception import fid_inception_v3
    state = fid_inception_v3().state_dict()
    return {k: v.float() for k, v in state.items() if not k.startswith("fc.") and not k.endswith("num_batches_tracked")}


NETWORKS = {"vgg16": vgg16, "fid-inception": fid_inception}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in NETWORKS:
        sys.exit(f"usage: export-weights.py {{{'|'.join(NETWORKS)}}} OUT.safetensors")
    name, out = sys.argv[1], sys.argv[2]
    safetensors_io.write(out, NETWORKS[name](), {"network": name, "torchvision": torchvision.__version__})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

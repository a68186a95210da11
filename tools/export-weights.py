#!/usr/bin/env python3
"""Writes pretrained perceptual-network weights as safetensors with the names BlurVae's engine uses (float32).

Run it where torchvision can download ImageNet weights and, for the LPIPS heads, the lpips package is installed
(`pip install lpips`; BlurVae's machines have neither):
    python3 tools/export-weights.py vgg16 vgg16.safetensors            # torchvision IMAGENET1K_V1 features
    python3 tools/export-weights.py alexnet alexnet.safetensors        # torchvision IMAGENET1K_V1 features
    python3 tools/export-weights.py lpips-alex lpips-alex.safetensors  # eval --lpips-weights (the paper's LPIPS)
    python3 tools/export-weights.py lpips-vgg lpips-vgg.safetensors    # eval --lpips-weights, train --loss vgg --vgg-weights
    python3 tools/export-weights.py deeploss-vgg deeploss-vgg.safetensors rgb_pnet_lin_vgg_trial0.pth
The last is the paper's VGG loss: torchvision's VGG16 features with the heads Czolbe et al. (NeurIPS 2020) learned on
the 2AFC data (SteffenCzolbe/PerceptualSimilarity, src/loss/weights/rgb_pnet_lin_vgg_trial0.pth, or gray_… for grey).
Names: `features.I.*` (torchvision's, e.g. features.0.weight) and the LPIPS heads `linL.weight` [1, C, 1, 1]
(the lpips package's linL.model.1.weight). BlurVae reads them with FeatureNetwork.Load and LpipsWeights.Load.
    python3 tools/export-weights.py fid-inception pt_inception.safetensors  # eval --inception-weights (pytorch-fid)
"""
import os
import re
import sys

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference", "pytorch"))
import safetensors_io  # noqa: E402

_SLICE = re.compile(r"^net\.slice\d+\.(\d+)\.(weight|bias)$")
_HEAD = re.compile(r"^lin(\d+)\.model\.\d+\.weight$")


def features(model):
    return {f"features.{k}": v.float() for k, v in model.features.state_dict().items()}


def fid_inception():
    """pytorch-fid's FID Inception-v3 (pt_inception-2015-12-05), which `blurvae eval --inception-weights` reads.

    pytorch-fid's parameter names are torchvision's (Mixed_5b.branch1x1.conv.weight, …); the 1008-class fc head and
    the batch norms' num_batches_tracked are not used for pool3 and are dropped. Needs `pip install pytorch-fid`.
    """
    from pytorch_fid.inception import fid_inception_v3
    state = fid_inception_v3().state_dict()
    return {k: v.float() for k, v in state.items() if not k.startswith("fc.") and not k.endswith("num_batches_tracked")}


def heads(state):
    """The LPIPS heads of a PNetLin/LPIPS state dict (linL.model.1.weight) as linL.weight; checks they are >= 0."""
    out = {}
    for key, value in state.items():
        m = _HEAD.match(key)
        if m:
            if (value < 0).any():
                sys.exit(f"head {key} has negative weights; BlurVae's LPIPS refuses them (the lpips package clamps heads at 0)")
            out[f"lin{m.group(1)}.weight"] = value.float()
    if sorted(out) != [f"lin{i}.weight" for i in range(5)]:
        sys.exit(f"expected the heads lin0 ... lin4, found {sorted(out)}")
    return out


def ours_from_lpips(state):
    """An lpips.LPIPS state dict -> our names: net.sliceK.I.weight -> features.I.weight (lpips keeps torchvision's
    layer indices inside its slices), linL.model.1.weight -> linL.weight; the ScalingLayer's constants are built in."""
    out = heads(state)
    for key, value in state.items():
        m = _SLICE.match(key)
        if m:
            out[f"features.{m.group(1)}.{m.group(2)}"] = value.float()
    return out


def vgg16():
    return features(torchvision.models.vgg16(weights=torchvision.models.VGG16_Weights.IMAGENET1K_V1))


def alexnet():
    return features(torchvision.models.alexnet(weights=torchvision.models.AlexNet_Weights.IMAGENET1K_V1))


def lpips_network(net):
    import lpips  # noqa: PLC0415 (only these two need the package)
    return ours_from_lpips(lpips.LPIPS(net=net, version="0.1", pretrained=True).state_dict())


def deeploss_vgg(path):
    return {**vgg16(), **heads(torch.load(path, map_location="cpu"))}


NETWORKS = {
    "vgg16": (vgg16, 0), "alexnet": (alexnet, 0),
    "lpips-alex": (lambda: lpips_network("alex"), 0), "lpips-vgg": (lambda: lpips_network("vgg"), 0),
    "deeploss-vgg": (deeploss_vgg, 1), "fid-inception": (fid_inception, 0),
}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in NETWORKS or len(sys.argv) != 3 + NETWORKS[sys.argv[1]][1]:
        sys.exit(f"usage: export-weights.py {{{'|'.join(NETWORKS)}}} OUT.safetensors [HEADS.pth for deeploss-vgg]")
    name, out = sys.argv[1], sys.argv[2]
    make, extra = NETWORKS[name]
    safetensors_io.write(out, make(*sys.argv[3:3 + extra]), {"network": name, "torchvision": torchvision.__version__})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

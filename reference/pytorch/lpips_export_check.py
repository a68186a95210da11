"""Runs tools/export-weights.py's lpips mapping on the state dict lpips.LPIPS would have, built here from torchvision's
random-weight network with lpips's module layout (net.sliceK.I.* keeping torchvision's indices, linL.model.1.weight
behind a Dropout), so the Reference tests check the names line up without the lpips package or any download.

Usage: lpips_export_check.py alex|vgg OUT.safetensors SEED
"""
import importlib.util
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402

SLICES = {"alex": [2, 5, 8, 10, 12], "vgg": [4, 9, 16, 23, 30]}  # the slices' ends in the lpips package's pretrained_networks module


def main():
    net, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    spec = importlib.util.spec_from_file_location("export_weights", os.path.join(HERE, "..", "..", "tools", "export-weights.py"))
    export = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export)
    torch.manual_seed(seed)
    model = (torchvision.models.alexnet if net == "alex" else torchvision.models.vgg16)(weights=None).features
    state, start = {}, 0
    for k, end in enumerate(SLICES[net]):
        for i in range(start, end):
            for p, v in model[i].state_dict().items():
                state[f"net.slice{k + 1}.{i}.{p}"] = v
        chans = [m.out_channels for m in model[:end] if isinstance(m, torch.nn.Conv2d)][-1]
        state[f"lin{k}.model.1.weight"] = torch.rand(1, chans, 1, 1)
        start = end
    state["scaling_layer.shift"] = torch.zeros(1, 3, 1, 1)
    safetensors_io.write(out, export.ours_from_lpips(state), {"network": f"lpips-{net}"})


if __name__ == "__main__":
    main()

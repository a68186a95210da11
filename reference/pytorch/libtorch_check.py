#!/usr/bin/env python3
"""Checks that bench/BlurVae.LibTorchBench (the TorchSharp port of bench.py) computes what this reference computes.

python3 reference/pytorch/libtorch_check.py [--dll PATH] [--image-channels 1 --side 32 --channels 32,64,128,256
    --latent 32 --kernel 11 --batch 8 --steps 3 --seed 1 --tolerance 1e-4]

Builds architecture A and G_γ here (models.py, PyTorch's default initialisation), draws x and ε, writes them and every
parameter (BlurVae's checkpoint names) to a safetensors file, runs the port with --check FILE, and runs the same
alternating steps here (step.full_step, torch.optim.Adam). Both report each step's reconstruction (Wiener, k = G_γ(z)),
KL and kernel-fit values: step 1 compares the forward pass and losses (the port's half-spectrum rfft2 against the full
fft2 here), later steps the gradients and both Adam updates. Prints a table; exit code 1 when a relative difference
exceeds --tolerance (float32 arithmetic summed in different orders: 1e-4 by default).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
DEFAULT_DLL = os.path.join(HERE, "..", "..", "bench", "BlurVae.LibTorchBench", "bin", "Release", "net10.0", "BlurVae.LibTorchBench.dll")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dll", default=DEFAULT_DLL)
    p.add_argument("--image-channels", type=int, default=1)
    p.add_argument("--side", type=int, default=32)
    p.add_argument("--channels", default="32,64,128,256")
    p.add_argument("--latent", type=int, default=32)
    p.add_argument("--kernel", type=int, default=11)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--mlp-hidden", type=int, default=512)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tolerance", type=float, default=1e-4)
    a = p.parse_args(argv)
    if not os.path.exists(a.dll):
        sys.exit(f"libtorch_check.py: {a.dll} not found: run tools/libtorch-bench.sh first")

    import torch

    import models
    import safetensors_io
    import step

    torch.manual_seed(a.seed)
    channels = [int(c) for c in a.channels.split(",")]
    vae = models.build_vae("A", a.image_channels, a.side, a.latent, channels, a.mlp_hidden)
    gen = models.KernelGenerator(a.latent, a.kernel)
    x = torch.rand(a.batch, a.image_channels, a.side, a.side) * 2 - 1
    eps = torch.randn(a.batch, a.latent)
    tensors = {"x": x, "eps": eps}
    tensors.update({"vae." + n: t.detach().clone() for n, t in vae.named_parameters()})
    tensors.update({"kernel_generator." + n: t.detach().clone() for n, t in gen.named_parameters()})

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "check.safetensors")
        safetensors_io.write(path, tensors)
        cmd = ["dotnet", a.dll, "--arch", "A", "--image-channels", str(a.image_channels), "--side", str(a.side),
               "--channels", a.channels, "--latent", str(a.latent), "--kernel", str(a.kernel), "--batch", str(a.batch),
               "--loss", "wiener", "--device", "cpu", "--threads", "1", "--warmup", "0", "--steps", str(a.steps),
               "--part", "step", "--mlp-hidden", str(a.mlp_hidden), "--check", path]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"libtorch_check.py: the port exited with code {run.returncode}: {run.stderr.strip()[-500:]}")
        theirs = json.loads(run.stdout.strip().splitlines()[-1])["steps"]

    opt_vae, opt_kernel = step.make_optimizers(vae, gen, foreach=False)
    cfg = step.StepConfig(loss="wiener")
    worst = 0.0
    print(f"{'step':>4} {'term':>4} {'pytorch ' + torch.__version__:>16} {'libtorch port':>16} {'rel. diff':>10}")
    for i in range(a.steps):
        _, rec, kl, fit = step.full_step(cfg, vae, gen, opt_vae, opt_kernel, x, eps)
        for name, ours in (("rec", rec.item()), ("kl", kl.item()), ("fit", fit.item())):
            other = theirs[i][name]
            rel = abs(ours - other) / max(abs(ours), 1e-12)
            worst = max(worst, rel)
            print(f"{i + 1:>4} {name:>4} {ours:>16.8g} {other:>16.8g} {rel:>10.2e}")
    ok = worst <= a.tolerance
    print(f"largest relative difference {worst:.2e} ({'within' if ok else 'ABOVE'} {a.tolerance:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

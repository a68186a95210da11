#!/usr/bin/env python3
"""Times the PyTorch reference's training step (or its loss alone) for the C# benchmark harness.

python3 reference/pytorch/bench.py --arch A|B --image-channels C --side S --channels 32,64,128,256 --latent L
    --kernel K --batch N --loss wiener|l2 --device cpu|cuda --threads T --warmup W --steps S --part step|loss
    [--compile] [--dtype float32] [--mlp-hidden 512] [--seed 1] [--count-ops PATH]

Prints exactly one JSON object on stdout:
{"engine": "pytorch", "torch": ..., "device": ..., "device_name": ..., "threads": T, "part": ..., "compiled": bool,
 "step_ms": [one float per timed step], "peak_working_set_mib": peak resident set of the timed steps (null if unknown),
 "cpu_isa": "AVX-512" | "AVX2" | "SSE" | null,
 "parameters": {"vae": N, "kernel_generator": M} for --part step (null for loss): `blurvae bench` checks them against ours}
Everything else (warnings, compiler chatter) goes to stderr: file descriptor 1 points at stderr until the JSON is written.

--count-ops PATH: after the timed steps, one more step under torch.profiler, and its structure written to PATH as JSON
(the counterpart of `blurvae profile`): aten operator calls (top-level, as the Python code calls them, and in total,
nested ones included), per name; on CUDA also the GPU kernels run, cudaLaunchKernel calls, memcpys, memsets and
synchronisations of that step. Profiling does not touch the timed steps.

--part step: the full alternating step (ELBO forward+backward+Adam, then the G_γ step forward+backward+Adam) on seeded
random data, as crosscheck.py and BlurVae's Trainer.Step do it. --loss wiener is the Wiener term with k = G_γ(z) (after
the warm-up); l2 is the warm-up / baseline ½‖x − x̂‖².
--part loss: the step's reconstruction term (the Wiener loss for --loss wiener) plus the kernel-fit loss, forward and
backward, alone on fixed tensors of the step's shapes (x, x̂ [N, C, S, S] and a kernel [N, K, K]).
"""
import argparse
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", required=True, type=str.upper, choices=["A", "B"])
    p.add_argument("--image-channels", required=True, type=int)
    p.add_argument("--side", required=True, type=int)
    p.add_argument("--channels", required=True, help="comma-separated encoder channel list, e.g. 32,64,128,256")
    p.add_argument("--latent", required=True, type=int)
    p.add_argument("--kernel", required=True, type=int, help="odd kernel side")
    p.add_argument("--batch", required=True, type=int)
    p.add_argument("--loss", required=True, choices=["wiener", "l2"])
    p.add_argument("--device", required=True, choices=["cpu", "cuda"])
    p.add_argument("--threads", required=True, type=int)
    p.add_argument("--warmup", required=True, type=int)
    p.add_argument("--steps", required=True, type=int)
    p.add_argument("--part", required=True, choices=["step", "loss"])
    p.add_argument("--compile", action="store_true", help="torch.compile the step's two loss functions where available")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--mlp-hidden", type=int, default=512, help="architecture A's MLP width (BlurVae's --mlp-hidden)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count-ops", metavar="PATH", help="write the operator and kernel counts of one profiled step here (JSON)")
    a = p.parse_args(argv)
    try:
        a.channel_list = [int(c) for c in a.channels.split(",") if c.strip()]
    except ValueError:
        p.error(f"--channels must be comma-separated integers, got '{a.channels}'")
    if not a.channel_list or any(c < 1 for c in a.channel_list):
        p.error(f"--channels must list positive integers, got '{a.channels}'")
    for flag in ("image_channels", "side", "latent", "kernel", "batch", "threads", "steps"):
        if getattr(a, flag) < 1:
            p.error(f"--{flag.replace('_', '-')} must be positive, got {getattr(a, flag)}")
    if a.warmup < 0:
        p.error(f"--warmup must be >= 0, got {a.warmup}")
    if a.kernel % 2 == 0 or a.kernel > a.side:
        p.error(f"--kernel must be odd and at most --side ({a.side}), got {a.kernel}")
    if a.batch < 2 and a.part == "step":
        p.error("--batch must be at least 2 for batch normalisation")
    return a


def note(message):
    print(f"bench.py: {message}", file=sys.stderr, flush=True)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_isa():
    """The widest x86 vector ISA /proc/cpuinfo reports (what BlurVae's MachineInfo reports), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return "AVX-512" if "avx512f" in flags else "AVX2" if {"avx2", "fma"} <= flags else "SSE"
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Resets the kernel's peak-RSS mark (VmHWM) so the next reading covers only what follows (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib():
    """VmHWM of /proc/self/status in MiB, or None where there is no such file."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def try_compile(torch, fn, what):
    """torch.compile(fn), or None with a stderr note where torch has no compile (1.13) or it fails."""
    if not hasattr(torch, "compile"):
        note(f"torch {torch.__version__} has no torch.compile; running {what} eagerly (compiled=false)")
        return None
    try:
        return torch.compile(fn)
    except Exception as e:  # a missing compiler backend and the like
        note(f"torch.compile({what}) failed ({type(e).__name__}: {e}); running eagerly (compiled=false)")
        return None


def run(a):
    import torch

    import losses
    import models
    import step

    torch.set_num_threads(a.threads)
    if a.device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("bench.py: --device cuda but torch.cuda.is_available() is false")
        device = torch.device("cuda")
        device_name = torch.cuda.get_device_name(0)
        torch.backends.cudnn.benchmark = True
    else:
        device = torch.device("cpu")
        device_name = cpu_name()
    dtype = getattr(torch, a.dtype)
    torch.manual_seed(a.seed)
    gen_data = torch.Generator().manual_seed(a.seed)
    x = (torch.rand(a.batch, a.image_channels, a.side, a.side, generator=gen_data, dtype=dtype) * 2 - 1).to(device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    compiled = False
    parameters = None
    if a.part == "step":
        vae = models.build_vae(a.arch, a.image_channels, a.side, a.latent, a.channel_list, a.mlp_hidden).to(device, dtype)
        gen = models.KernelGenerator(a.latent, a.kernel).to(device, dtype)
        parameters = {"vae": sum(p.numel() for p in vae.parameters()), "kernel_generator": sum(p.numel() for p in gen.parameters())}
        opt_vae, opt_kernel = step.make_optimizers(vae, gen, foreach=None)
        eps = torch.randn(a.batch, a.latent, generator=gen_data, dtype=dtype).to(device)
        cfg = step.StepConfig(loss=a.loss)

        def elbo_loss(x, eps):
            x_hat, mu, logvar, z = vae.run(x, eps)
            return step.reconstruction_term(cfg, x, x_hat, z, gen) + losses.kl(mu, logvar), z, x_hat

        def fit_loss(x, z, x_hat):
            return losses.kernel_fit(x, x_hat, gen(z))

        elbo_fn, fit_fn = elbo_loss, fit_loss
        if a.compile:
            c1, c2 = try_compile(torch, elbo_loss, "the ELBO loss"), try_compile(torch, fit_loss, "the kernel-fit loss")
            if c1 is not None and c2 is not None:
                elbo_fn, fit_fn, compiled = c1, c2, True

        def one():
            vae.train()
            gen.train()
            opt_vae.zero_grad(set_to_none=True)
            step.set_requires_grad(gen, False)
            loss, z, x_hat = elbo_fn(x, eps)
            loss.backward()
            step.set_requires_grad(gen, True)
            opt_vae.step()
            opt_kernel.zero_grad(set_to_none=True)
            fit = fit_fn(x, z.detach(), x_hat.detach())
            fit.backward()
            opt_kernel.step()
    else:
        x_hat0 = (torch.rand(x.shape, generator=gen_data, dtype=dtype) * 2 - 1).to(device)
        logits = torch.randn(a.batch, a.kernel * a.kernel, generator=gen_data, dtype=dtype)
        kernel0 = torch.softmax(logits, dim=1).reshape(a.batch, a.kernel, a.kernel).to(device)
        x_hat = x_hat0.clone().requires_grad_(True)
        kernel = kernel0.clone().requires_grad_(True)

        def loss_fn(x, x_hat, kernel):
            rec = losses.wiener(x, x_hat, kernel) if a.loss == "wiener" else losses.l2(x, x_hat)
            return rec + losses.kernel_fit(x, x_hat, kernel)

        fn = loss_fn
        if a.compile:
            c = try_compile(torch, loss_fn, "the loss")
            if c is not None:
                fn, compiled = c, True

        def one():
            x_hat.grad = None
            kernel.grad = None
            fn(x, x_hat, kernel).backward()

    if compiled:
        try:  # the first call compiles; a backend that cannot build falls back to eager here
            one()
        except Exception as e:
            note(f"torch.compile failed on the first call ({type(e).__name__}: {e}); running eagerly (compiled=false)")
            return run_eager_fallback(a)
    for _ in range(a.warmup):
        one()
    sync()
    peak_resettable = reset_peak_rss()
    times = []
    for _ in range(a.steps):
        sync()
        t0 = time.perf_counter()
        one()
        sync()
        times.append((time.perf_counter() - t0) * 1000.0)
    if a.count_ops:
        counts = count_ops(torch, one, sync, device.type == "cuda")
        counts.update({"engine": "pytorch", "torch": torch.__version__, "device": a.device, "device_name": device_name,
                       "part": a.part, "compiled": compiled, "steps": 1})
        with open(a.count_ops, "w") as f:
            json.dump(counts, f, indent=2, sort_keys=True)
            f.write("\n")
    return {"engine": "pytorch", "torch": torch.__version__, "device": a.device, "device_name": device_name,
            "threads": a.threads, "part": a.part, "compiled": compiled, "step_ms": times,
            "peak_working_set_mib": peak_rss_mib() if peak_resettable else None, "cpu_isa": cpu_isa(), "parameters": parameters}


# CUDA runtime calls of a step, by the prefix of their names in the profiler's trace.
CUDA_RUNTIME = {"cuda_launch_kernel": ("cudaLaunchKernel", "cuLaunchKernel"), "cuda_memcpy": ("cudaMemcpy",),
                "cuda_memset": ("cudaMemset",), "cuda_synchronize": ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize")}


def count_ops(torch, one, sync, cuda):
    """The operator calls (and on CUDA the kernels and runtime calls) of one step, from torch.profiler."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    sync()
    with profile(activities=activities) as prof:
        one()
        sync()
    events = list(prof.events())

    def is_aten(e):
        return e.name.startswith("aten::")

    def top_level(e):
        parent = e.cpu_parent
        while parent is not None:
            if is_aten(parent):
                return False
            parent = parent.cpu_parent
        return True

    aten = [e for e in events if is_aten(e)]
    top = [e for e in aten if top_level(e)]
    by_name = {}
    for e in top:
        by_name[e.name] = by_name.get(e.name, 0) + 1
    result = {"aten_ops_top_level": len(top), "aten_ops_total": len(aten),
              "aten_top_level_by_name": dict(sorted(by_name.items(), key=lambda kv: (-kv[1], kv[0])))}
    if cuda:
        kernels = [e for e in events if e.device_type == torch.autograd.DeviceType.CUDA]
        result["cuda_kernels"] = len(kernels)
        kernel_names = {}
        for e in kernels:
            kernel_names[e.name] = kernel_names.get(e.name, 0) + 1
        result["cuda_kernels_by_name"] = dict(sorted(kernel_names.items(), key=lambda kv: (-kv[1], kv[0])))
        for key, prefixes in CUDA_RUNTIME.items():
            result[key] = sum(1 for e in events if e.name.startswith(prefixes))
    return result


def run_eager_fallback(a):
    a.compile = False
    return run(a)


def main(argv):
    a = parse(argv)
    real_stdout = os.dup(1)
    os.dup2(2, 1)  # anything printed while running (Python or native code) lands on stderr
    try:
        result = run(a)
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
        os.close(real_stdout)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Computes everything the C# cross-checks (tests/BlurVae.Tests/Reference) compare, for one case file.

usage: crosscheck.py CASE.safetensors OUT.safetensors

CASE (written by the C# test) holds, in its __metadata__ "config", a JSON object:
  kind            "model" (a VAE + G_γ and one alternating step) or "losses" (the losses alone on given tensors)
  dtype           "float32" | "float64"
  model: arch "A"|"B", image_channels, side, channels [..], latent, mlp_hidden, kernel_size,
         step_loss (wiener|l2|l1|bce|ffl|watson), wiener_c, eps (null = no log-determinant in the step), beta, lr,
         lr_kernel, ffl_weight, step_watson_shift [dy, dx] | null
  both:  wiener_c, logdet_eps (ε of the stand-alone log-determinant), ffl_alpha, watson_shift [dy, dx] | null
and the tensors: model cases "vae.<param or buffer>", "kernel_generator.<param>", "x", "eps"; loss cases "x", "x_hat",
"kernel".

OUT holds (every tensor in the case's dtype):
  forward/{mu,logvar,z,x_hat,kernel}       one training-mode forward (it updates the BN running statistics, as C#'s does)
  loss/<name>, grad/<name>/<input>         each loss on (x, x̂, k) of that forward (or of the case) and its gradients
  elbo/{loss,reconstruction,kl}, elbo/grad/<param>, elbo/param/<param>, elbo/buffer/<buffer>
  kernel/loss, kernel/grad/<param>, kernel/param/<param>
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import losses  # noqa: E402
import models  # noqa: E402
import safetensors_io  # noqa: E402
import step  # noqa: E402

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def loss_table(x, x_hat, kernel, cfg, mu=None, logvar=None):
    """name → (function of the leaves, the leaves it takes). Watson-DFT only where H, W are multiples of 8."""
    n, c, h, w = x.shape
    c_w, eps = cfg.get("wiener_c", losses.WIENER_C), cfg["logdet_eps"]
    alpha = cfg.get("ffl_alpha", 1.0)
    img = {"x": x, "x_hat": x_hat}
    imgk = {"x": x, "x_hat": x_hat, "kernel": kernel}
    table = {
        "wiener": (lambda t: losses.wiener(t["x"], t["x_hat"], t["kernel"], c_w), imgk),
        "logdet": (lambda t: losses.log_determinant(t["kernel"], c, h, w, eps), {"kernel": kernel}),
        "logdet_exact": (lambda t: losses.log_determinant_exact(t["kernel"], c, h, w, c_w), {"kernel": kernel}),
        "wiener_logdet": (lambda t: losses.wiener(t["x"], t["x_hat"], t["kernel"], c_w)
                          + losses.log_determinant(t["kernel"], c, h, w, eps), imgk),
        "kernel_fit": (lambda t: losses.kernel_fit(t["x"], t["x_hat"], t["kernel"]), imgk),
        "l2": (lambda t: losses.l2(t["x"], t["x_hat"]), img),
        "l1": (lambda t: losses.l1(t["x"], t["x_hat"]), img),
        "bce": (lambda t: losses.bce(t["x"], t["x_hat"]), img),
        "ffl": (lambda t: losses.focal_frequency(t["x"], t["x_hat"], alpha), img),
    }
    if c in (1, 3) and h % 8 == 0 and w % 8 == 0:
        watson = losses.WatsonDft(c)
        table["watson"] = (lambda t: watson(t["x"], t["x_hat"]), img)
        if cfg.get("watson_shift") is not None:
            shift = tuple(cfg["watson_shift"])
            table["watson_shifted"] = (lambda t: watson(t["x"], t["x_hat"], shift), img)
    if mu is not None:
        table["kl"] = (lambda t: losses.kl(t["mu"], t["logvar"]), {"mu": mu, "logvar": logvar})
    return table


def run_losses(out, table):
    for name, (fn, inputs) in table.items():
        leaves = {k: v.detach().clone().requires_grad_(True) for k, v in inputs.items()}
        value = fn(leaves)
        value.backward()
        out[f"loss/{name}"] = value.detach()
        for k, leaf in leaves.items():
            out[f"grad/{name}/{k}"] = leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)


def run_model(cfg, tensors, dtype, out):
    vae = models.build_vae(cfg["arch"], cfg["image_channels"], cfg["side"], cfg["latent"], cfg["channels"],
                           cfg.get("mlp_hidden", 512)).to(dtype)
    gen = models.KernelGenerator(cfg["latent"], cfg["kernel_size"]).to(dtype)
    for prefix, module in (("vae.", vae), ("kernel_generator.", gen)):
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        missing, unexpected = module.load_state_dict(state, strict=False)
        missing = [m for m in missing if not m.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise ValueError(f"{prefix[:-1]}: state dict mismatch, missing {missing}, unexpected {unexpected}")
    x, eps = tensors["x"], tensors["eps"]

    # One forward in training mode (batch statistics), as VaeModel.Run in the C# test.
    with torch.no_grad():
        vae.train()
        x_hat, mu, logvar, z = vae.run(x, eps)
        kernel = gen(z)
    out.update({"forward/mu": mu, "forward/logvar": logvar, "forward/z": z, "forward/x_hat": x_hat,
                "forward/kernel": kernel})
    run_losses(out, loss_table(x, x_hat, kernel, cfg, mu, logvar))

    cfg_step = step.StepConfig(loss=cfg["step_loss"], wiener_c=cfg.get("wiener_c", losses.WIENER_C), eps=cfg.get("eps"),
                               beta=cfg.get("beta", 1.0), ffl_weight=cfg.get("ffl_weight", 100.0),
                               watson_shift=tuple(cfg["step_watson_shift"]) if cfg.get("step_watson_shift") else None)
    watson = losses.WatsonDft(cfg["image_channels"]) if cfg_step.loss == "watson" else None
    opt_vae, opt_kernel = step.make_optimizers(vae, gen, cfg.get("lr", 1e-4), cfg.get("lr_kernel", 1e-4))
    loss, rec, kl, z_d, x_hat_d = step.elbo_step(cfg_step, vae, gen, opt_vae, x, eps, watson)
    out.update({"elbo/loss": loss, "elbo/reconstruction": rec, "elbo/kl": kl})
    for name, p in vae.named_parameters():
        out[f"elbo/grad/vae.{name}"] = p.grad
        out[f"elbo/param/vae.{name}"] = p.detach().clone()
    for name, b in vae.named_buffers():
        if not name.endswith("num_batches_tracked"):
            out[f"elbo/buffer/vae.{name}"] = b.clone()
    for name, p in gen.named_parameters():
        if p.grad is not None:
            raise AssertionError(f"the ELBO step left a gradient on kernel_generator.{name}; G_γ must be frozen")
    fit = step.kernel_step(gen, opt_kernel, x, z_d, x_hat_d)
    out["kernel/loss"] = fit
    for name, p in gen.named_parameters():
        out[f"kernel/grad/kernel_generator.{name}"] = p.grad
        out[f"kernel/param/kernel_generator.{name}"] = p.detach().clone()


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    start = time.perf_counter()
    tensors, metadata = safetensors_io.read(argv[1])
    if "config" not in metadata:
        raise ValueError(f"{argv[1]}: no 'config' in __metadata__")
    cfg = json.loads(metadata["config"])
    dtype = DTYPES[cfg["dtype"]]
    for k, v in tensors.items():
        if v.dtype != dtype:
            raise ValueError(f"{argv[1]}: tensor '{k}' is {v.dtype}, the config says {cfg['dtype']}")
    torch.manual_seed(0)  # nothing random is drawn; fixed anyway so an accidental draw repeats
    out = {}
    if cfg["kind"] == "model":
        run_model(cfg, tensors, dtype, out)
    elif cfg["kind"] == "losses":
        run_losses(out, loss_table(tensors["x"], tensors["x_hat"], tensors["kernel"], cfg))
    else:
        raise ValueError(f"{argv[1]}: unknown case kind '{cfg['kind']}'")
    for k, v in out.items():
        if v.dtype != dtype:
            raise AssertionError(f"output '{k}' is {v.dtype}, expected {dtype}")
    safetensors_io.write(argv[2], out, {"torch": torch.__version__,
                                        "seconds": f"{time.perf_counter() - start:.3f}"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

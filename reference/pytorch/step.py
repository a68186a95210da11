"""The alternating iteration of BlurVae.Training/Train/Trainer.cs (docs/method.md, "One training iteration"):

1. ELBO step on θ, φ: x̂ = decoder(μ + σ·ε); loss = reconstruction + β·KL, where the reconstruction is the Wiener term
   with k = G_γ(z) (not detached: the gradient reaches the encoder through k), plus ½log|Σ| when eps is set; or, during
   the warm-up / for the baselines, L2, L1, BCE, FFL or Watson-DFT. γ is frozen (requires_grad off) but differentiated
   through; only the VAE's Adam steps.
2. Kernel step on γ: ‖x ∗ G_γ(z.detach()) − x̂.detach()‖², Adam on γ.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import torch

import losses


@dataclass
class StepConfig:
    loss: str = "wiener"            # wiener (after the warm-up) | l2 | l1 | bce | ffl | watson
    wiener_c: float = losses.WIENER_C
    eps: Optional[float] = None     # ε of the log-determinant; None = "large ε", the term is skipped
    beta: float = 1.0
    ffl_weight: float = 100.0
    watson_shift: Optional[Tuple[int, int]] = None   # (dy, dx) of Watson-DFT's shift for this step, or None


def reconstruction_term(cfg, x, x_hat, z, generator, watson=None):
    if cfg.loss == "wiener":
        kernel = generator(z)
        term = losses.wiener(x, x_hat, kernel, cfg.wiener_c)
        if cfg.eps is not None:
            term = term + losses.log_determinant(kernel, x.shape[1], x.shape[2], x.shape[3], cfg.eps)
        return term
    if cfg.loss == "l2":
        return losses.l2(x, x_hat)
    if cfg.loss == "l1":
        return losses.l1(x, x_hat)
    if cfg.loss == "bce":
        return losses.bce(x, x_hat)
    if cfg.loss == "ffl":
        return losses.focal_frequency_training(x, x_hat, cfg.ffl_weight)
    if cfg.loss == "watson":
        return watson(x, x_hat, cfg.watson_shift)
    raise ValueError(f"unknown step loss '{cfg.loss}'")


def set_requires_grad(module, value):
    for p in module.parameters():
        p.requires_grad_(value)


def elbo_step(cfg, vae, generator, opt_vae, x, eps, watson=None):
    """Step 1. Returns (loss, reconstruction, kl, z, x_hat) with z and x̂ still attached to the graph's values."""
    vae.train()
    generator.train()
    opt_vae.zero_grad(set_to_none=True)
    set_requires_grad(generator, False)
    try:
        x_hat, mu, logvar, z = vae.run(x, eps)
        rec = reconstruction_term(cfg, x, x_hat, z, generator, watson)
        kl = losses.kl(mu, logvar)
        loss = rec + cfg.beta * kl
        loss.backward()
    finally:
        set_requires_grad(generator, True)
    opt_vae.step()
    return loss.detach(), rec.detach(), kl.detach(), z.detach(), x_hat.detach()


def kernel_step(generator, opt_kernel, x, z, x_hat):
    """Step 2 on detached z and x̂. Returns the kernel-fit loss."""
    opt_kernel.zero_grad(set_to_none=True)
    fit = losses.kernel_fit(x, x_hat.detach(), generator(z.detach()))
    fit.backward()
    opt_kernel.step()
    return fit.detach()


def make_optimizers(vae, generator, lr=1e-4, lr_kernel=1e-4, foreach=False):
    """torch.optim.Adam with its defaults (β 0.9/0.999, eps 1e-8, no weight decay), one per parameter group, as
    BlurVae.Training/Engine/Optim/Adam. foreach=False (the cross-check): the plain per-parameter loop, the same arithmetic on
    every torch; None (the benchmark): torch's own choice, the multi-tensor kernels on CUDA."""
    return (torch.optim.Adam(vae.parameters(), lr=lr, foreach=foreach),
            torch.optim.Adam(generator.parameters(), lr=lr_kernel, foreach=foreach))


def full_step(cfg, vae, generator, opt_vae, opt_kernel, x, eps, watson=None):
    loss, rec, kl, z, x_hat = elbo_step(cfg, vae, generator, opt_vae, x, eps, watson)
    fit = kernel_step(generator, opt_kernel, x, z, x_hat)
    return loss, rec, kl, fit

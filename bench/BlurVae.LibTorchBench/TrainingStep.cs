using TorchSharp;
using static TorchSharp.torch;

namespace BlurVae.LibTorchBench;

/// <summary>
/// step.py's alternating step: the ELBO (reconstruction with k = G_γ(z), γ frozen but differentiated through, + KL)
/// backward and Adam on the VAE, then the kernel fit ‖x ∗ G_γ(z) − x̂‖² on detached z, x̂, backward and Adam on G_γ.
/// Each step runs in its own dispose scope, so its intermediate tensors are freed when it ends (as Python frees them by
/// reference count) instead of waiting for .NET's garbage collector.
/// </summary>
public sealed class TrainingStep
{
    private readonly Vae _vae;
    private readonly KernelGenerator _gen;
    private readonly optim.Optimizer _optVae, _optKernel;
    private readonly Losses _losses;
    private readonly bool _wiener;

    public TrainingStep(Vae vae, KernelGenerator gen, Losses losses, bool wiener)
    {
        _vae = vae;
        _gen = gen;
        _losses = losses;
        _wiener = wiener;
        // torch.optim.Adam's defaults (β 0.9/0.999, eps 1e-8, no weight decay), lr 1e-4 for both groups (step.py).
        _optVae = optim.Adam(vae.parameters(), lr: 1e-4);
        _optKernel = optim.Adam(gen.parameters(), lr: 1e-4);
    }

    /// <summary>One step; with <paramref name="read"/> the step's reconstruction, KL and kernel-fit values (else zeros, no host reads).</summary>
    public (double Rec, double Kl, double Fit) Run(Tensor x, Tensor eps, bool read = false)
    {
        using var scope = NewDisposeScope();
        _vae.train();
        _gen.train();
        _optVae.zero_grad();
        SetRequiresGrad(_gen, false);
        var (xHat, mu, logvar, z) = _vae.Run(x, eps);
        var rec = _wiener ? _losses.Wiener(x, xHat, _gen.forward(z)) : Losses.L2(x, xHat);
        var kl = Losses.Kl(mu, logvar);
        (rec + kl).backward();
        SetRequiresGrad(_gen, true);
        _optVae.step();
        _optKernel.zero_grad();
        var fit = _losses.KernelFit(x, xHat.detach(), _gen.forward(z.detach()));
        fit.backward();
        _optKernel.step();
        return read ? (rec.item<float>(), kl.item<float>(), fit.item<float>()) : default;
    }

    private static void SetRequiresGrad(nn.Module module, bool value)
    {
        foreach (var p in module.parameters()) p.requires_grad = value;
    }
}

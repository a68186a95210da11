using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace BlurVae.LibTorchBench;

/// <summary>
/// bench.py's run(): seeded random data, the model, the part's one pass (the alternating step or the loss alone),
/// W untimed passes, then S timed ones with the peak resident set of the timed ones. Each pass runs in its own
/// dispose scope (see <see cref="TrainingStep"/>).
/// </summary>
public static class StepBench
{
    public sealed record Result(List<double> StepMs, double? PeakWorkingSetMib, long VaeParameters, long KernelGeneratorParameters);

    public static Result Run(BenchArguments a)
    {
        torch.set_num_threads(a.Threads);
        torch.set_num_interop_threads(1);
        var dtype = a.Dtype == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        torch.manual_seed(a.Seed);
        var genData = new Generator((ulong)a.Seed);
        var x = (torch.rand([a.Batch, a.ImageChannels, a.Side, a.Side], dtype: dtype, generator: genData) * 2 - 1).DetachFromDisposeScope();
        var losses = new Losses(a.Side, a.Side, dtype);
        Action one;
        long vaeCount = 0, genCount = 0;
        if (a.Part == "step")
        {
            var vae = Vae.Build(a.Arch, a.ImageChannels, a.Side, a.Latent, a.Channels, a.MlpHidden);
            var gen = new KernelGenerator(a.Latent, a.Kernel);
            vae.to(dtype);
            gen.to(dtype);
            vaeCount = Count(vae);
            genCount = Count(gen);
            var step = new TrainingStep(vae, gen, losses, a.Loss == "wiener");
            var eps = torch.randn([a.Batch, a.Latent], dtype: dtype, generator: genData).DetachFromDisposeScope();
            one = () => step.Run(x, eps);
        }
        else
        {
            var xHat0 = (torch.rand(x.shape, dtype: dtype, generator: genData) * 2 - 1).DetachFromDisposeScope();
            var logits = torch.randn([a.Batch, a.Kernel * a.Kernel], dtype: dtype, generator: genData);
            var kernel0 = torch.softmax(logits, 1).reshape(a.Batch, a.Kernel, a.Kernel).DetachFromDisposeScope();
            var xHat = xHat0.clone().requires_grad_(true).DetachFromDisposeScope();
            var kernel = kernel0.clone().requires_grad_(true).DetachFromDisposeScope();
            one = () =>
            {
                using var scope = torch.NewDisposeScope();
                xHat.grad?.Dispose();
                kernel.grad?.Dispose();
                xHat.grad = null;
                kernel.grad = null;
                var rec = a.Loss == "wiener" ? losses.Wiener(x, xHat, kernel) : Losses.L2(x, xHat);
                (rec + losses.KernelFit(x, xHat, kernel)).backward();
            };
        }
        for (int i = 0; i < a.Warmup; i++) one();
        bool resettable = PeakRss.Reset();
        var times = new List<double>(a.Steps);
        for (int i = 0; i < a.Steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            one();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return new Result(times, resettable ? PeakRss.ReadMib() : null, vaeCount, genCount);
    }

    private static long Count(nn.Module module) => module.parameters().Sum(p => p.numel());
}

using BenchmarkDotNet.Attributes;
using BlurVae.Kernels;
using BlurVae.Training.Engine.Autograd;
using BlurVae.Training.Engine.Tensors;

namespace BlurVae.Bench;

/// <summary>
/// Micro-benchmarks of the CPU ops at the fashion32 configuration's sizes (batch 64, 32×32, channels 32…256):
/// where a training step spends its time.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(3), IterationCount(10)]
public class CpuOpBenchmarks
{
    private Tensor _x = null!, _w1 = null!, _h = null!, _w2 = null!, _wt = null!, _img = null!, _spec = null!, _big = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _x = Tensor.Randn([64, 1, 32, 32], rng);
        _w1 = Tensor.Randn([32, 1, 3, 3], rng);
        _h = Tensor.Randn([64, 64, 8, 8], rng);
        _w2 = Tensor.Randn([128, 64, 3, 3], rng);
        _wt = Tensor.Randn([128, 64, 4, 4], rng);
        _img = Tensor.Randn([64, 32, 32], rng);
        _spec = _img.Rfft2();
        _big = Tensor.Randn([64, 32, 16, 16], rng);
    }

    [Benchmark] public Tensor Conv2dFirstLayer() => Functional.Conv2d(_x, _w1, null, 2, 1);
    [Benchmark] public Tensor Conv2dMiddleLayer() => Functional.Conv2d(_h, _w2, null, 2, 1);
    [Benchmark] public Tensor ConvTranspose2dMiddleLayer() => Functional.ConvTranspose2d(Functional.Conv2d(_h, _w2, null, 2, 1), _wt, null, 2, 1);
    [Benchmark] public Tensor Rfft2Batch64x32x32() => _img.Rfft2();
    [Benchmark] public Tensor Irfft2Batch64x32x32() => _spec.Irfft2(32);
    [Benchmark] public Tensor LeakyRelu524k() => _big.LeakyRelu(0.2);
    [Benchmark] public Tensor BatchNormTraining524k() => Functional.BatchNorm(_big, null, null, null, null, training: true);
}

using static BlurVae.Tests.Parity.KernelParity;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>Tensor-level ops on the emulated CUDA backend against the same ops on the CPU backend.</summary>
[TestFixture, Category("Parity")]
public class EmulatedBackendTests
{
    // Float sums in a different order (kernel loops and block reductions against SIMD loops): a few ulps per term.
    private const double Atol = 1e-5, Rtol = 1e-4;

    private static DeviceBackend? _backend;

    // A device of its own: tensors are GC-owned and their buffers freed by finalizers, which KernelsLeakCheck would count against KernelParity.Device.
    private static DeviceBackend Emulated => _backend ??= GpuTarget.NewBackend();

    /// <summary>Runs <paramref name="f"/> on tensors holding <paramref name="inputs"/> on each backend and compares the results.</summary>
    private static void AssertSameOnBoth(Func<Tensor[], Tensor> f, string what, params (float[] Values, int[] Shape)[] inputs)
    {
        float[] Run(IBackend backend)
        {
            var tensors = inputs.Select(i => Tensor.FromArray(i.Values, i.Shape, backend: backend)).ToArray();
            var y = f(tensors);
            Assert.That(y.Backend, Is.SameAs(backend), $"{what}: the result left the backend");
            return y.ToFloatArray();
        }
        AssertClose(Run(CpuBackend.Instance), Run(Emulated), Atol, Rtol, what);
    }

    [Test]
    public void ElementwiseBroadcastingAndReductionsMatchTheCpuBackend()
    {
        var a = (Uniform(1, 2 * 3 * 5), new[] { 2, 3, 5 });
        var b = (Uniform(2, 3), new[] { 3, 1 });
        var pos = (Uniform(3, 30, 0.1f, 2f), new[] { 2, 3, 5 });
        AssertSameOnBoth(t => t[0] * t[1] + t[0].Tanh() - t[1] / 3.0, "mul/add/tanh/sub/div with broadcasting", a, b);
        AssertSameOnBoth(t => (t[0].Log() + t[0].Sqrt() * t[0].Sigmoid()).Sum([0, 2], keepDims: true), "log/sqrt/sigmoid + sum", pos);
        AssertSameOnBoth(t => t[0].Softmax().Mean([1]), "softmax + mean", a);
        AssertSameOnBoth(t => Tensor.Concat([t[0], t[0].Square()], 1).Narrow(1, 2, 3), "concat + narrow", a);
    }

    [Test]
    public void MatMulResizeAndFftMatchTheCpuBackend()
    {
        AssertSameOnBoth(t => t[0].MatMul(t[1]), "matmul", (Uniform(4, 6 * 7), [6, 7]), (Uniform(5, 7 * 4), [7, 4]));
        AssertSameOnBoth(t => t[0].ResizeBilinear(8, 10), "resize", (Uniform(6, 2 * 3 * 4 * 5), [2, 3, 4, 5]));
        AssertSameOnBoth(t => t[0].Rfft2().Irfft2(6), "rfft2 + irfft2", (Uniform(7, 2 * 4 * 6), [2, 4, 6]));
    }

    [Test]
    public void Conv2dForwardAndBackwardThroughAutogradMatchTheCpuBackend()
    {
        float[] xv = Uniform(10, 2 * 3 * 9 * 9), wv = Uniform(11, 4 * 3 * 3 * 3), bv = Uniform(12, 4);
        (float[] Y, float[] Dx, float[] Dw, float[] Db) Run(IBackend backend)
        {
            var x = Tensor.FromArray(xv, [2, 3, 9, 9], backend: backend);
            var w = Tensor.FromArray(wv, [4, 3, 3, 3], backend: backend);
            var bias = Tensor.FromArray(bv, [4], backend: backend);
            x.RequiresGrad = w.RequiresGrad = bias.RequiresGrad = true;
            var y = Functional.Conv2d(x, w, bias, stride: 2, padding: 1).Keep(); // read after Backward()
            // A non-uniform upstream gradient (Σ y², so dy = 2y) exercises every element of the backward kernels.
            y.Square().Sum().Backward();
            return (y.ToFloatArray(), x.Grad!.ToFloatArray(), w.Grad!.ToFloatArray(), bias.Grad!.ToFloatArray());
        }
        var cpu = Run(CpuBackend.Instance);
        var emu = Run(Emulated);
        AssertClose(cpu.Y, emu.Y, Atol, Rtol, "conv2d y");
        AssertClose(cpu.Dx, emu.Dx, Atol, Rtol, "conv2d dx");
        AssertClose(cpu.Dw, emu.Dw, 1e-4, Rtol, "conv2d dw");
        AssertClose(cpu.Db, emu.Db, 1e-4, Rtol, "conv2d dbias");
    }

    [Test]
    public void BatchNormTrainingForwardAndBackwardMatchTheCpuBackend()
    {
        float[] xv = Uniform(20, 4 * 3 * 5), gv = Uniform(21, 3, 0.5f, 1.5f), bv = Uniform(22, 3);
        (float[] Y, float[] Dx, float[] Dg, float[] Rm) Run(IBackend backend)
        {
            var x = Tensor.FromArray(xv, [4, 3, 5], backend: backend);
            var gamma = Tensor.FromArray(gv, [3], backend: backend);
            var beta = Tensor.FromArray(bv, [3], backend: backend);
            var rm = Tensor.Zeros([3], backend: backend);
            var rv = Tensor.Ones([3], backend: backend);
            x.RequiresGrad = gamma.RequiresGrad = beta.RequiresGrad = true;
            var y = Functional.BatchNorm(x, rm, rv, gamma, beta, training: true).Keep(); // read after Backward()
            (y * y.Tanh()).Sum().Backward();
            return (y.ToFloatArray(), x.Grad!.ToFloatArray(), gamma.Grad!.ToFloatArray(), rm.ToFloatArray());
        }
        var cpu = Run(CpuBackend.Instance);
        var emu = Run(Emulated);
        AssertClose(cpu.Y, emu.Y, Atol, Rtol, "batchnorm y");
        AssertClose(cpu.Dx, emu.Dx, 1e-4, Rtol, "batchnorm dx");
        AssertClose(cpu.Dg, emu.Dg, 1e-4, Rtol, "batchnorm dgamma");
        AssertClose(cpu.Rm, emu.Rm, Atol, Rtol, "batchnorm running mean");
    }

    [Test]
    public void Float64IsRejectedWithAClearMessage()
    {
        var ex = Assert.Throws<NotSupportedException>(() => Emulated.Allocate(DType.Float64, 4));
        Assert.That(ex!.Message, Does.Contain("float32").And.Contain("Float64"));
        Assert.Throws<NotSupportedException>(() => Tensor.Zeros([2], DType.Float64, Emulated));
    }

    [Test]
    public void BuffersOfAnotherBackendAreRejected()
    {
        var cpu = CpuBackend.Instance.Allocate(DType.Float32, 4);
        var emu = Emulated.Allocate(DType.Float32, 4);
        var ex = Assert.Throws<ArgumentException>(() => Emulated.Copy(emu, cpu));
        Assert.That(ex!.Message, Does.Contain("cpu"));
        emu.Dispose();
    }

    [Test]
    public void AllocateZeroFillsAndDisposeFreesTheDeviceMemory()
    {
        // A device of its own, so that buffers of other tests (freed by the finalizer at any time) do not disturb the count.
        var backend = GpuTarget.NewBackend();
        var buffers = new List<BackendBuffer>();
        for (int i = 0; i < 5; i++)
        {
            var b = backend.Allocate(DType.Float32, 100);
            var v = new float[b.Length];
            backend.Download(b, v);
            Assert.That(v, Is.All.EqualTo(0f), "Allocate must zero-fill");
            buffers.Add(b);
        }
        // Ops allocate nothing on the device behind the caller's back.
        backend.Fill(buffers[0], 2.5);
        backend.UnaryForward(UnaryOp.Square, buffers[2], buffers[0], 1);
        backend.Copy(buffers[1], buffers[2]);
        var squared = new float[100];
        backend.Download(buffers[1], squared);
        Assert.That(squared, Is.All.EqualTo(6.25f));
        Assert.That(backend.Device.LiveAllocations, Is.EqualTo(5));
        foreach (var b in buffers) b.Dispose();
        Assert.That(backend.Device.LiveAllocations, Is.EqualTo(0));
        Assert.That(backend.Device.LiveBytes, Is.EqualTo(0));
        buffers[0].Dispose(); // a second Dispose is harmless
        Assert.That(backend.Device.LiveAllocations, Is.EqualTo(0));
    }

    [Test]
    public void UnreachableTensorsReturnTheirDeviceMemory()
    {
        // Tensors are never disposed; the buffer's finalizer frees their device memory.
        var backend = GpuTarget.NewBackend();
        AllocateGarbage(backend);
        for (int i = 0; i < 5 && backend.Device.LiveAllocations > 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.That(backend.Device.LiveAllocations, Is.EqualTo(0));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AllocateGarbage(DeviceBackend backend)
    {
        var x = Tensor.FromArray(Uniform(30, 64), [8, 8], backend: backend);
        var y = (x * x + 1.0).Sum([1]);
        Assert.That(backend.Device.LiveAllocations, Is.GreaterThanOrEqualTo(3));
        Assert.That(y.ToFloatArray(), Has.Length.EqualTo(8));
    }
}

namespace BlurVae.Tests.Native;

/// <summary>
/// End to end on a real device: allocate, copy, compile with NVRTC, load, launch, time, read back. Ignored (with the
/// probe's message) where there is no CUDA device, as on the CI machine.
/// </summary>
[TestFixture, Category("Native"), Category("Cuda")]
public unsafe class CudaDeviceTests
{
    [SetUp]
    public void RequireDevice()
    {
        var probe = CudaAvailability.Probe();
        if (!probe.IsAvailable) Assert.Ignore(probe.Message);
        NvrtcSupport.RequireNvrtc();
    }

    [Test]
    public void CompiledKernelRunsOnTheDevice()
    {
        using var context = CudaContext.Create();
        var (major, minor) = context.ComputeCapability;
        var archs = Nvrtc.SupportedArchitectures();
        var arch = archs.Where(a => a <= major * 10 + minor).Max();
        var (ptx, _) = NvrtcCompiler.Compile("""
            extern "C" __global__ void axpb_kernel(float* x, float a, float b, int n)
            {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) x[i] = a * x[i] + b;
            }
            """, "axpb.cu", [$"--gpu-architecture=compute_{arch}"]);

        const int n = 1000;
        var host = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        using var memory = CudaMemory.Allocate(n * sizeof(float));
        memory.CopyFrom<float>(host);
        using var module = CudaModule.Load(ptx);
        var kernel = module.GetFunction("axpb_kernel");
        using var stream = CudaStream.Create();
        using var start = CudaEvent.Create();
        using var end = CudaEvent.Create();

        var pointer = memory.Pointer;
        float a = 2, b = -1;
        var count = n;
        var args = stackalloc void*[4] { &pointer, &a, &b, &count };
        start.Record(stream);
        kernel.Launch(new Dim3((n + 255) / 256), new Dim3(256), 0, stream, args);
        end.Record(stream);
        end.Synchronize();
        Assert.That(CudaEvent.ElapsedMilliseconds(start, end), Is.GreaterThanOrEqualTo(0));

        var result = new float[n];
        memory.CopyTo<float>(result);
        for (var i = 0; i < n; i++)
            Assert.That(result[i], Is.EqualTo(2f * i - 1f), $"x[{i}]");

        memory.Fill32(0);
        memory.CopyTo<float>(result);
        Assert.That(result, Is.All.EqualTo(0f));
    }

    [Test]
    public void BadLaunchAndBadPtxNameTheDriverError()
    {
        using var context = CudaContext.Create();
        var e = Assert.Throws<CudaException>(() => CudaModule.Load(".version 7.0\n.target sm_80\n.address_size 64\nthis is not ptx\n"))!;
        Assert.That(e.Library, Is.EqualTo("CUDA driver"));
        Assert.That(e.StatusName, Does.StartWith("CUDA_ERROR_"));
        Assert.That(e.Call, Is.EqualTo("cuModuleLoadDataEx"));
        TestContext.Out.WriteLine(e.Message);
    }
}

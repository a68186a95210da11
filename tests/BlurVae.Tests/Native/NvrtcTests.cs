using System.Text.RegularExpressions;

namespace BlurVae.Tests.Native;

/// <summary>
/// The NVRTC compile check: the repository's kernels.cu compiles to PTX, without errors or warnings, for the
/// architectures we target (compute_80: A100; compute_90: H100). Runs without a GPU; needs only libnvrtc.
/// </summary>
[TestFixture, Category("Native"), Category("Nvrtc")]
public class NvrtcTests
{
    [SetUp]
    public void RequireNvrtc() => NvrtcSupport.RequireNvrtc();

    [Test]
    public void ReportsVersionAndTargetsAmpere()
    {
        var (major, minor) = Nvrtc.Version();
        var archs = Nvrtc.SupportedArchitectures();
        TestContext.Out.WriteLine($"NVRTC {major}.{minor}; architectures: {string.Join(", ", archs)}");
        Assert.That(major, Is.GreaterThanOrEqualTo(11));
        Assert.That(archs, Does.Contain(80));
        Assert.That(archs, Is.Ordered);
    }

    [TestCase(80), TestCase(90)]
    public void KernelsCuCompilesCleanly(int architecture)
    {
        var archs = Nvrtc.SupportedArchitectures();
        // NVRTC older than 11.8 cannot target Hopper: then compile for the newest it can, and say so instead of passing.
        var target = archs.Contains(architecture) ? architecture : archs.Where(a => a <= architecture).Max();

        var root = Repository.Root();
        var path = Path.Combine(root, "kernels.cu");
        var source = File.ReadAllText(path);
        var (ptx, log) = NvrtcCompiler.Compile(source, path, NvrtcSupport.KernelOptions(target, root));

        Assert.That(log, Does.Not.Contain("error").IgnoreCase, log);
        Assert.That(log, Does.Not.Contain("warning").IgnoreCase, log);
        Assert.That(ptx, Does.Contain(".version"));
        Assert.That(ptx, Does.Contain($".target sm_{target}"));
        var kernels = Regex.Matches(source, @"\b__global__\b").Count;
        var entries = Regex.Matches(ptx, @"\.entry\s").Count;
        TestContext.Out.WriteLine($"kernels.cu → compute_{target}: {source.Length} chars, {kernels} __global__, {entries} .entry, {ptx.Length} chars of PTX");
        // Templates only reach the PTX when instantiated, so the counts need not be equal; any kernel must yield one.
        if (kernels > 0) Assert.That(entries, Is.GreaterThan(0), "kernels.cu declares __global__ functions but the PTX has no .entry");
        // The tensor-core convolutions reach WMMA through kernels/wmma.cuh (NVRTC's builtins where <mma.h> is absent):
        // the layouts the kernels ask for (A column-major, B row-major, D stored row-major) and TF32 rounding.
        Assert.That(ptx, Does.Contain("wmma.load.a.sync.aligned.col.m16n16k8.tf32"));
        Assert.That(ptx, Does.Contain("wmma.load.b.sync.aligned.row.m16n16k8.tf32"));
        Assert.That(ptx, Does.Contain("wmma.mma.sync.aligned.col.row.m16n16k8.f32.tf32.tf32.f32"));
        Assert.That(ptx, Does.Contain("wmma.store.d.sync.aligned.row.m16n16k8.f32"));
        Assert.That(ptx, Does.Contain("cvt.rna.tf32.f32"));

        if (target != architecture)
        {
            var (major, minor) = Nvrtc.Version();
            Assert.Ignore($"NVRTC {major}.{minor} cannot target compute_{architecture}; kernels.cu compiled cleanly for compute_{target} instead.");
        }
    }

    [Test]
    public void AKernelBecomesAnEntry()
    {
        const string source = """
            extern "C" __global__ void scale_kernel(float* x, float a, int n)
            {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) x[i] *= a;
            }
            """;
        var (ptx, log) = NvrtcCompiler.Compile(source, "scale.cu", ["--gpu-architecture=compute_80", "--std=c++17"]);
        Assert.That(log, Does.Not.Contain("error").IgnoreCase.And.Not.Contain("warning").IgnoreCase);
        Assert.That(ptx, Does.Contain(".visible .entry scale_kernel("));
        Assert.That(ptx, Does.Contain(".target sm_80"));
    }

    [Test]
    public void BrokenSourceThrowsWithNvrtcsLog()
    {
        const string source = """
            extern "C" __global__ void broken_kernel(float* x)
            {
                x[0] = undeclared_value;
            }
            """;
        var e = Assert.Throws<CudaException>(() =>
            NvrtcCompiler.Compile(source, "broken.cu", ["--gpu-architecture=compute_80"]))!;
        TestContext.Out.WriteLine(e.Message);
        Assert.That(e.Library, Is.EqualTo("NVRTC"));
        Assert.That(e.StatusName, Is.EqualTo("NVRTC_ERROR_COMPILATION"));
        Assert.That(e.Status, Is.EqualTo(Nvrtc.ErrorCompilation));
        Assert.That(e.Message, Does.Contain("broken.cu(3): error: identifier \"undeclared_value\" is undefined"));
    }

    [Test]
    public void UnknownOptionThrowsNamingTheOptions()
    {
        var e = Assert.Throws<CudaException>(() =>
            NvrtcCompiler.Compile("__global__ void k() {}", "k.cu", ["--no-such-option"]))!;
        Assert.That(e.Library, Is.EqualTo("NVRTC"));
        Assert.That(e.StatusName, Is.EqualTo("NVRTC_ERROR_INVALID_OPTION"));
        Assert.That(e.Message, Does.Contain("--no-such-option"));
    }
}

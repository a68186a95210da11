using BlurVae.Kernels.Cuda;

namespace BlurVae.Tests.Native;

/// <summary>
/// The embedded kernels.cu, compiled by NVRTC and cached on disk per (source hash, NVRTC version, architecture).
/// Needs only libnvrtc, no GPU.
/// </summary>
[TestFixture, Category("Native"), Category("Nvrtc")]
public class PtxCacheTests
{
    private string _directory = "";

    [SetUp]
    public void CreateCacheDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"blurvae-ptx-test-{Guid.NewGuid():N}");
    }

    [TearDown]
    public void DeleteCacheDirectory()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public void FirstCallCompilesSecondCallHits()
    {
        NvrtcSupport.RequireNvrtc();
        var first = PtxCache.Lookup(8, 0, _directory);
        Assert.That(first.CacheHit, Is.False);
        Assert.That(File.Exists(first.FilePath), first.FilePath);
        Assert.That(Path.GetDirectoryName(first.FilePath), Is.EqualTo(_directory));
        Assert.That(Path.GetFileName(first.FilePath), Does.Contain(KernelSource.Embedded.Sha256).And.Contain("compute_80"));
        Assert.That(first.Ptx, Does.Contain(".target sm_80"));
        Assert.That(first.Ptx, Does.Contain(".entry conv2d_forward_tf32_128x64_kernel("));

        var second = PtxCache.Lookup(8, 0, _directory);
        Assert.That(second.CacheHit, Is.True);
        Assert.That(second.FilePath, Is.EqualTo(first.FilePath));
        Assert.That(second.Ptx, Is.EqualTo(first.Ptx));
        Assert.That(PtxCache.GetOrCompile(8, 0, _directory), Is.EqualTo(first.Ptx));
        Assert.That(Directory.GetFiles(_directory), Has.Length.EqualTo(1), "no temp files left behind");
    }

    [Test]
    public void AnotherArchitectureIsAnotherFile()
    {
        NvrtcSupport.RequireNvrtc();
        // NVRTC older than 11.8 cannot target Hopper: then the newest other architecture it can.
        var archs = Nvrtc.SupportedArchitectures();
        var other = archs.Contains(90) ? 90 : archs.Where(a => a != 80).Max();
        var ampere = PtxCache.Lookup(8, 0, _directory);
        var next = PtxCache.Lookup(other / 10, other % 10, _directory);
        Assert.That(next.CacheHit, Is.False);
        Assert.That(next.FilePath, Is.Not.EqualTo(ampere.FilePath));
        Assert.That(next.Ptx, Does.Contain($".target sm_{other}"));
        Assert.That(Directory.GetFiles(_directory), Has.Length.EqualTo(2));
    }

    [TestCase(""), TestCase("garbage"), TestCase("truncate")]
    public void ACorruptFileIsRecompiled(string corruption)
    {
        NvrtcSupport.RequireNvrtc();
        var good = PtxCache.Lookup(8, 0, _directory);
        var text = File.ReadAllText(good.FilePath);
        File.WriteAllText(good.FilePath, corruption switch
        {
            "truncate" => text[..(text.Length / 2)],
            _ => corruption,
        });

        var again = PtxCache.Lookup(8, 0, _directory);
        Assert.That(again.CacheHit, Is.False);
        Assert.That(again.Ptx, Is.EqualTo(good.Ptx));
        Assert.That(File.ReadAllText(good.FilePath), Is.EqualTo(text), "the corrupt file is rewritten");
        Assert.That(PtxCache.Lookup(8, 0, _directory).CacheHit, Is.True);
    }

    [Test]
    public void TheCacheDirectoryComesFromTheEnvironment()
    {
        var saved = Environment.GetEnvironmentVariable(PtxCache.DirectoryVariable);
        try
        {
            Environment.SetEnvironmentVariable(PtxCache.DirectoryVariable, _directory);
            Assert.That(PtxCache.DefaultDirectory(), Is.EqualTo(_directory));
            Environment.SetEnvironmentVariable(PtxCache.DirectoryVariable, null);
            Assert.That(PtxCache.DefaultDirectory(), Does.EndWith(Path.Combine("blurvae", "ptx")));
        }
        finally
        {
            Environment.SetEnvironmentVariable(PtxCache.DirectoryVariable, saved);
        }
    }

    [TestCase(0, 0), TestCase(8, 10), TestCase(8, -1)]
    public void AnImpossibleComputeCapabilityIsRejected(int major, int minor)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PtxCache.Lookup(major, minor, _directory))!;
        Assert.That(e.ParamName, Is.EqualTo(minor is < 0 or > 9 ? "minor" : "major"));
    }

    [Test]
    public void TheEmbeddedSourceIsTheRepositorysKernels()
    {
        var root = Repository.Root();
        var source = KernelSource.Embedded;
        Assert.That(source.Main, Is.EqualTo(File.ReadAllText(Path.Combine(root, "kernels.cu"))), "kernels.cu");

        var onDisk = Directory.GetFiles(Path.Combine(root, "kernels"), "*.cuh")
            .Select(f => "kernels/" + Path.GetFileName(f))
            .Order(StringComparer.Ordinal);
        Assert.That(source.Headers.Select(h => h.Name), Is.EqualTo(onDisk));
        foreach (var (name, text) in source.Headers)
            Assert.That(text, Is.EqualTo(File.ReadAllText(Path.Combine(root, name))), name);
        Assert.That(source.Sha256, Does.Match("^[0-9a-f]{64}$"));
    }
}

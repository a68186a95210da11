using System.Runtime.InteropServices;

namespace BlurVae.Tests.Native;

/// <summary>The soname resolver and the CUDA probe, on machines with or without CUDA.</summary>
[TestFixture, Category("Native")]
public class NativeLibraryTests
{
    [Test]
    public void CandidatesAreTheDocumentedSonamesNewestFirst()
    {
        Assert.That(NativeLibraries.CandidatesFor(NativeLibraries.Cuda), Is.EqualTo(new[] { "libcuda.so.1", "libcuda.so" }));
        Assert.That(NativeLibraries.CandidatesFor(NativeLibraries.Nvrtc),
            Is.EqualTo(new[] { "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so" }));
        Assert.That(NativeLibraries.CandidatesFor(NativeLibraries.Cufft)[0], Is.EqualTo("libcufft.so.12"));
        Assert.That(NativeLibraries.CandidatesFor(NativeLibraries.Cublas)[^1], Is.EqualTo("libcublas.so"));
    }

    [Test]
    public void UnknownLogicalNameIsRejectedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => NativeLibraries.CandidatesFor("cudnn"));
        Assert.That(e!.Message, Does.Contain("'cudnn'"));
    }

    [Test]
    public void SearchTriesBareSonamesInOrderThenEachDirectory()
    {
        var names = NativeLibraries.CandidatesFor(NativeLibraries.Cufft);
        var paths = NativeLibraries.SearchPaths(NativeLibraries.Cufft).ToList();
        Assert.That(paths.Take(names.Count), Is.EqualTo(names));
        var cudaDir = paths.IndexOf(Path.Combine("/usr/local/cuda/lib64", names[0]));
        Assert.That(cudaDir, Is.GreaterThanOrEqualTo(names.Count));
        Assert.That(paths.Skip(cudaDir).Take(names.Count), Is.EqualTo(names.Select(n => Path.Combine("/usr/local/cuda/lib64", n))));
    }

    [Test]
    public void ExplicitDirectoriesComeFirstAndPipWheelLibFoldersAreSearchedLast()
    {
        // A PyTorch environment without a CUDA toolkit keeps cuBLAS, cuFFT and NVRTC in nvidia/<wheel>/lib.
        var root = Directory.CreateTempSubdirectory("blurvae-venv-").FullName;
        var saved = (Environment.GetEnvironmentVariable("VIRTUAL_ENV"), Environment.GetEnvironmentVariable(NativeLibraries.LibraryPathVariable));
        try
        {
            var wheelLib = Path.Combine(root, "lib", "python3.12", "site-packages", "nvidia", "cu13", "lib");
            Directory.CreateDirectory(wheelLib);
            Directory.CreateDirectory(Path.Combine(root, "lib", "python3.12", "site-packages", "nvidia", "no-lib-here"));
            Environment.SetEnvironmentVariable("VIRTUAL_ENV", root);
            Environment.SetEnvironmentVariable(NativeLibraries.LibraryPathVariable, "/first/a:/first/b");
            var dirs = NativeLibraries.SearchDirectories().ToList();
            Assert.That(dirs.Take(2), Is.EqualTo(new[] { "/first/a", "/first/b" }));
            Assert.That(dirs, Does.Contain(wheelLib));
            Assert.That(dirs.IndexOf(wheelLib), Is.GreaterThan(dirs.IndexOf("/usr/local/cuda/lib64")));
            Assert.That(dirs.Any(d => d.Contains("no-lib-here")), Is.False);
        }
        finally
        {
            Environment.SetEnvironmentVariable("VIRTUAL_ENV", saved.Item1);
            Environment.SetEnvironmentVariable(NativeLibraries.LibraryPathVariable, saved.Item2);
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void NothingLoadingReportsEveryPathTried()
    {
        string[] bogus = ["libblurvae-absent.so.9", "libblurvae-absent.so"];
        Assert.That(NativeLibraries.TryLoadAny("absent", bogus, out var handle, out var message), Is.False);
        Assert.That(handle, Is.EqualTo(IntPtr.Zero));
        var tried = NativeLibraries.SearchPaths(bogus).ToList();
        Assert.That(tried, Has.Count.GreaterThan(bogus.Length));
        foreach (var path in tried)
            Assert.That(message, Does.Contain(path));
        Assert.That(message, Does.StartWith("absent: none of libblurvae-absent.so.9, libblurvae-absent.so could be loaded"));
    }

    [Test]
    public void AnyLoadableCandidateIsTakenAndNamed()
    {
        // libc is on every Linux machine: the first candidate that does not exist is skipped, the second loads.
        string[] names = ["libblurvae-absent.so.9", "libc.so.6"];
        Assert.That(NativeLibraries.TryLoadAny("libc", names, out var handle, out var message), Is.True, message);
        Assert.That(handle, Is.Not.EqualTo(IntPtr.Zero));
        Assert.That(message, Is.EqualTo("libc.so.6"));
    }

    [Test]
    public void ProbeExplainsAMissingDriverWithoutThrowing()
    {
        var driverPresent = NativeLibrary.TryLoad("libcuda.so.1", out var h);
        if (driverPresent) NativeLibrary.Free(h);
        CudaAvailability probe = null!;
        Assert.DoesNotThrow(() => probe = CudaAvailability.Probe());
        TestContext.Out.WriteLine(probe.Message);
        if (driverPresent)
        {
            Assert.That(probe.DriverLoaded, Is.True);
            Assert.That(probe.Message, Is.Not.Empty);
        }
        else
        {
            Assert.That(probe.DriverLoaded, Is.False);
            Assert.That(probe.IsAvailable, Is.False);
            Assert.That(probe.Message, Is.EqualTo("no CUDA driver (libcuda.so.1 not found); using the CPU backend"));
            Assert.That(probe.Details, Does.Contain("/usr/local/cuda/lib64/libcuda.so.1"));
        }
    }

    [Test]
    public void CallingTheDriverWithoutLibcudaNamesThePathsTried()
    {
        if (NativeLibrary.TryLoad("libcuda.so.1", out var h))
        {
            NativeLibrary.Free(h);
            Assert.Ignore("libcuda.so.1 is installed here; the missing-driver path cannot be exercised.");
        }
        var e = Assert.Throws<DllNotFoundException>(() => Driver.cuInit(0));
        Assert.That(e!.Message, Does.Contain("libcuda.so.1").And.Contain("/usr/local/cuda/lib64/libcuda.so.1"));
    }
}

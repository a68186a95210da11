namespace BlurVae.Tests.Native;

/// <summary>Status codes become CudaExceptions that name library, call, status and its text.</summary>
[TestFixture, Category("Native")]
public class ErrorMappingTests
{
    [TestCase(1, "CUFFT_INVALID_PLAN"), TestCase(2, "CUFFT_ALLOC_FAILED"), TestCase(5, "CUFFT_INTERNAL_ERROR"),
     TestCase(8, "CUFFT_INVALID_SIZE"), TestCase(13, "CUFFT_NO_WORKSPACE"), TestCase(16, "CUFFT_NOT_SUPPORTED")]
    public void CufftStatusesHaveTheirHeaderNames(int status, string name)
    {
        Assert.That(Cufft.StatusName(status), Is.EqualTo(name));
        Assert.That(Cufft.StatusText(status), Is.Not.Empty.And.Not.EqualTo("unknown cuFFT status"));
    }

    [Test]
    public void UnknownCufftStatusKeepsItsNumber()
    {
        Assert.That(Cufft.StatusName(99), Is.EqualTo("cufftResult 99"));
        Assert.That(Cufft.StatusName(-1), Is.EqualTo("cufftResult -1"));
    }

    [TestCase(1, "CUBLAS_STATUS_NOT_INITIALIZED"), TestCase(3, "CUBLAS_STATUS_ALLOC_FAILED"), TestCase(7, "CUBLAS_STATUS_INVALID_VALUE"),
     TestCase(8, "CUBLAS_STATUS_ARCH_MISMATCH"), TestCase(13, "CUBLAS_STATUS_EXECUTION_FAILED"), TestCase(15, "CUBLAS_STATUS_NOT_SUPPORTED")]
    public void CublasStatusesHaveTheirHeaderNames(int status, string name)
    {
        Assert.That(Cublas.TableStatusName(status), Is.EqualTo(name));
        // With or without libcublas (its own cublasGetStatusName, or our table) the exception carries the same name.
        var e = Cublas.Failure(status, "cublasSgemm_v2");
        Assert.That(e.StatusName, Is.EqualTo(name));
        Assert.That(e.Message, Does.StartWith($"cuBLAS: cublasSgemm_v2 failed with {name} ({status}): "));
        Assert.That(e.StatusText, Is.Not.Empty);
    }

    [Test]
    public void CufftCheckThrowsWithLibraryCallNameAndText()
    {
        Assert.DoesNotThrow(() => Cufft.Check(0, "cufftExecR2C"));
        var e = Assert.Throws<CudaException>(() => Cufft.Check(6, "cufftExecR2C"))!;
        Assert.That(e.Library, Is.EqualTo("cuFFT"));
        Assert.That(e.Call, Is.EqualTo("cufftExecR2C"));
        Assert.That(e.Status, Is.EqualTo(6));
        Assert.That(e.Message, Is.EqualTo("cuFFT: cufftExecR2C failed with CUFFT_EXEC_FAILED (6): failed to execute an FFT on the GPU"));
    }

    [Test]
    public void ExceptionAppendsTheLogOnItsOwnLines()
    {
        var e = new CudaException("NVRTC", 6, "NVRTC_ERROR_COMPILATION", "NVRTC_ERROR_COMPILATION", "nvrtcCompileProgram",
            "k.cu(3): error: expected a \";\"\n\n");
        Assert.That(e.Message, Is.EqualTo("NVRTC: nvrtcCompileProgram failed with NVRTC_ERROR_COMPILATION (6): NVRTC_ERROR_COMPILATION"
                                          + Environment.NewLine + "k.cu(3): error: expected a \";\""));
        Assert.That(e.Detail, Does.Contain("expected a"));
    }

    [Test]
    public void DriverStatusWithoutDriverKeepsItsNumber()
    {
        var e = Driver.Failure(2, "cuMemAlloc_v2");
        Assert.That(e.Library, Is.EqualTo("CUDA driver"));
        Assert.That(e.Message, Does.StartWith("CUDA driver: cuMemAlloc_v2 failed with "));
        // With a driver, cuGetErrorName names it; without one the number stays.
        var driverPresent = NativeLibraries.TryLoad(NativeLibraries.Cuda, out _, out _);
        Assert.That(e.StatusName, Is.EqualTo(driverPresent ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUresult 2"));
    }
}

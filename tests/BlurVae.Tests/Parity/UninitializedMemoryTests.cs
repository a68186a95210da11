
namespace BlurVae.Tests.Parity;

/// <summary>
/// Uninitialised buffers read as NaN under emulation (and on the CPU in the tests), so an op that relies on a zero
/// it did not write fails; zeroed ones stay zero and cost one memset on the device, uninitialised ones none.
/// </summary>
[TestFixture, Category("Parity")]
public class UninitializedMemoryTests
{
    [Test]
    public void TheEmulatedDeviceFillsUninitialisedBuffersWithNaNWithoutAMemset()
    {
        using var device = new EmulatedDevice();
        var backend = new EmulatedBackend(device);
        var before = device.Counts;
        var empty = backend.AllocateUninitialized(DType.Float32, 1000);
        var afterEmpty = device.Counts;
        var zeros = backend.Allocate(DType.Float32, 1000);
        var afterZeros = device.Counts;
        var e = new float[1000];
        var z = new float[1000];
        backend.Download(empty, e);
        backend.Download(zeros, z);
        Assert.Multiple(() =>
        {
            Assert.That(e.All(float.IsNaN), Is.True);
            Assert.That(z.All(v => v == 0), Is.True);
            Assert.That(afterEmpty.Minus(before).Memsets, Is.Zero, "an uninitialised allocation is no stream operation");
            Assert.That(afterZeros.Minus(afterEmpty).Memsets, Is.EqualTo(1));
        });
        empty.Dispose();
        zeros.Dispose();
    }

    [Test]
    public void TheCpuBackendPoisonsUninitialisedBuffersInTheTests()
    {
        Assert.That(CpuBackend.PoisonUninitialized, Is.True, "the test run's set-up turns it on");
        foreach (int n in new[] { 7, ArrayRecycler.MinLength + 1 })
        {
            var b = CpuBackend.Instance.AllocateUninitialized(DType.Float64, n);
            var values = new double[n];
            CpuBackend.Instance.Download(b, values);
            Assert.That(values.All(double.IsNaN), Is.True, $"n={n}");
            b.Release();
        }
    }
}

using BlurVae.Kernels.Device;
using BlurVae.Native;

namespace BlurVae.Kernels.Cuda;

/// <summary>
/// The CUDA backend on a real GPU: <see cref="DeviceBackend"/>'s ops (the kernels of kernels.cu, cuBLAS, cuFFT)
/// on a <see cref="CudaDevice"/>. The same code runs in CI on the emulated device.
/// </summary>
public sealed class CudaBackend : DeviceBackend, IDisposable
{
    public CudaBackend(CudaDevice device) : base(device)
    {
    }

    /// <summary>A backend on device <paramref name="ordinal"/> (see <see cref="CudaDevice.Create"/> for what can fail).</summary>
    public static CudaBackend Create(int ordinal = 0) => new(CudaDevice.Create(ordinal));

    public override string Name => "cuda";

    public new CudaDevice Device => (CudaDevice)base.Device;

    /// <summary>
    /// Tries to start the CUDA backend. Returns null, with one line for the user in <paramref name="reason"/>,
    /// when there is no usable GPU or a CUDA library is missing or fails; never throws for those.
    /// </summary>
    public static CudaBackend? TryCreate(out string reason, int ordinal = 0)
    {
        var availability = CudaAvailability.Probe();
        if (!availability.IsAvailable)
        {
            reason = availability.Message;
            return null;
        }
        try
        {
            var backend = Create(ordinal);
            reason = $"{availability.Message}; kernels: PTX compute_{backend.Device.PtxArchitecture} ({(backend.Device.Ptx.CacheHit ? "cached" : "compiled now")}, {backend.Device.Ptx.FilePath})";
            return backend;
        }
        catch (Exception e) when (e is CudaException or DllNotFoundException or EntryPointNotFoundException or NotSupportedException)
        {
            reason = $"CUDA is present but unusable ({FirstLine(e.Message)}); using the CPU backend";
            return null;
        }
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    public void Dispose() => Device.Dispose();
}

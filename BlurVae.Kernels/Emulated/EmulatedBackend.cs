using BlurVae.Kernels.Device;

namespace BlurVae.Kernels.Emulated;

/// <summary>
/// The CUDA backend's code (<see cref="DeviceBackend"/>) on the emulated device: every op launches the kernels of
/// kernels/*.cuh, built for the host, with the real launch geometry, argument marshalling and buffer lifetimes;
/// cuBLAS and cuFFT calls go to the CPU backend's GEMM and FFT. Whole models train on it in CI without a GPU.
/// </summary>
public sealed class EmulatedBackend : DeviceBackend
{
    /// <param name="device">The emulated device; default: a new one over the default host kernels library.</param>
    public EmulatedBackend(EmulatedDevice? device = null) : base(device ?? new EmulatedDevice())
    {
    }

    public override string Name => "emulated-cuda";

    /// <summary>The emulated device (its allocation counters are what the leak tests read).</summary>
    public new EmulatedDevice Device => (EmulatedDevice)base.Device;
}

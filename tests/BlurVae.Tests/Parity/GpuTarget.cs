using BlurVae.Kernels.Cuda;

// Not BlurVae.Tests.Kernels: that namespace would capture `Kernels.DType` in Losses/BlurKernelOtfTests.cs.
namespace BlurVae.Tests.Parity;

/// <summary>
/// Which device the Parity category runs on: BLURVAE_DEVICE=cuda forces the real driver (and fails loudly when it
/// cannot start), BLURVAE_DEVICE=emulated forces the host emulation; unset, a usable GPU is taken when there is one
/// and the emulation otherwise (as on CI). Either way the same launchers and backend code run.
/// </summary>
internal static class GpuTarget
{
    public const string Variable = "BLURVAE_DEVICE";

    public static GpuDevice NewDevice()
    {
        var wanted = Environment.GetEnvironmentVariable(Variable);
        switch (wanted)
        {
            case "cuda":
                return CudaDevice.Create();
            case "emulated":
                return new EmulatedDevice();
            case null or "":
                var cuda = CudaBackend.TryCreate(out _);
                return cuda is not null ? cuda.Device : new EmulatedDevice();
            default:
                throw new InvalidOperationException($"{Variable}='{wanted}': expected cuda or emulated.");
        }
    }

    public static DeviceBackend NewBackend() => NewDevice() switch
    {
        CudaDevice d => new CudaBackend(d),
        EmulatedDevice d => new EmulatedBackend(d),
        var d => throw new InvalidOperationException($"No backend for device {d.Name}."),
    };
}

namespace BlurVae.Native;

/// <summary>Whether CUDA can be used here, and why not when it cannot; never throws.</summary>
/// <param name="DriverLoaded">libcuda loaded.</param>
/// <param name="DeviceCount">Devices the driver reports (0 when it did not load or initialise).</param>
/// <param name="Message">One line for the user: the device in use, or why the CPU backend is used.</param>
/// <param name="Details">The full story: every path tried, or the driver's status.</param>
public sealed record CudaAvailability(bool DriverLoaded, int DeviceCount, string Message, string Details)
{
    public bool IsAvailable => DriverLoaded && DeviceCount > 0;

    public static unsafe CudaAvailability Probe()
    {
        if (!NativeLibraries.TryLoad(NativeLibraries.Cuda, out _, out var tried))
            return new(false, 0,
                $"no CUDA driver ({NativeLibraries.CandidatesFor(NativeLibraries.Cuda)[0]} not found); using the CPU backend", tried);
        try
        {
            var status = Driver.cuInit(0);
            if (status != 0)
            {
                var failure = Driver.Failure(status, "cuInit");
                return new(true, 0, $"the CUDA driver did not initialise ({failure.StatusName}: {failure.StatusText}); using the CPU backend",
                    failure.Message);
            }
            int count;
            Driver.Check(Driver.cuDeviceGetCount(&count), "cuDeviceGetCount");
            if (count == 0)
                return new(true, 0, "the CUDA driver reports no device; using the CPU backend", "cuDeviceGetCount = 0");
            int device, major, minor;
            Driver.Check(Driver.cuDeviceGet(&device, 0), "cuDeviceGet");
            Driver.Check(Driver.cuDeviceGetAttribute(&major, Driver.AttributeComputeCapabilityMajor, device), "cuDeviceGetAttribute");
            Driver.Check(Driver.cuDeviceGetAttribute(&minor, Driver.AttributeComputeCapabilityMinor, device), "cuDeviceGetAttribute");
            var name = CudaContext.DeviceName(device);
            return new(true, count, $"CUDA device 0: {name} (compute capability {major}.{minor}); {count} device(s)", tried);
        }
        catch (Exception e) when (e is CudaException or EntryPointNotFoundException or DllNotFoundException)
        {
            return new(true, 0, $"the CUDA driver is unusable ({e.Message}); using the CPU backend", e.ToString());
        }
    }
}

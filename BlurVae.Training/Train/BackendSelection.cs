using BlurVae.Kernels.Cuda;
using BlurVae.Kernels.Device;
using BlurVae.Kernels.Emulated;

namespace BlurVae.Training.Train;

/// <summary>
/// The backend behind --device: "cpu"; "cuda" (the GPU, or — without a usable GPU or CUDA library — one clear line
/// and the CPU); "auto" (the GPU when one is usable and the dtype is float32, else the CPU); "emulated" (the CUDA
/// code path on the host emulation: slow, for checking the GPU code without a GPU).
/// </summary>
public static class BackendSelection
{
    public static readonly string[] Devices = ["auto", "cpu", "cuda", "emulated"];

    /// <summary>The GPU "cuda" and "auto" open (data-parallel runs: the rank's local rank); set before the first selection.</summary>
    public static int CudaOrdinal { get; set; }

    private static readonly Lock Gate = new();
    private static CudaBackend? _cuda;
    private static string? _cudaReason;

    /// <param name="dtype">"f32" or "f64": the GPU backends hold float32 only.</param>
    /// <param name="precision">--precision of the GPU backends' convolutions and GEMMs (the CPU ignores it).</param>
    /// <param name="verbose">--verbose: print each convolution algorithm the GPU backends choose.</param>
    public static IBackend Select(string device, string dtype, TextWriter log, MathPrecision precision = MathPrecision.Tf32, bool verbose = false) =>
        Configure(SelectBackend(device, dtype, log), precision, verbose ? log : null);

    /// <summary>Sets a GPU backend's <paramref name="precision"/> and where its convolution plans are printed; other backends pass through.</summary>
    public static IBackend Configure(IBackend backend, MathPrecision precision, TextWriter? planLog)
    {
        if (backend is DeviceBackend gpu)
        {
            gpu.Device.Precision = precision;
            gpu.Device.PlanLog = planLog is null ? null : line => planLog.WriteLine(line);
        }
        return backend;
    }

    private static IBackend SelectBackend(string device, string dtype, TextWriter log)
    {
        bool f64 = dtype == "f64";
        switch (device)
        {
            case "cpu":
                return Tensor.DefaultBackend;
            case "auto":
            {
                if (f64)
                {
                    log.WriteLine("device: cpu (--dtype f64; the CUDA kernels are float32)");
                    return Tensor.DefaultBackend;
                }
                var cuda = Cuda(out var reason);
                log.WriteLine(cuda is not null ? $"device: cuda — {reason}" : $"device: cpu — {reason}");
                return (IBackend?)cuda ?? Tensor.DefaultBackend;
            }
            case "cuda":
            {
                if (f64) throw new ArgumentException("--device cuda runs float32 only (the kernels are float); pass --dtype f32, or --device cpu for f64.");
                var cuda = Cuda(out var reason);
                log.WriteLine($"--device cuda: {reason}");
                return (IBackend?)cuda ?? Tensor.DefaultBackend;
            }
            case "emulated":
                if (f64) throw new ArgumentException("--device emulated runs float32 only (the kernels are float); pass --dtype f32, or --device cpu for f64.");
                if (!File.Exists(EmulatedDevice.DefaultLibraryPath))
                    throw new NotSupportedException($"--device emulated needs the host build of the kernels ({EmulatedDevice.DefaultLibraryPath}), which this build does not ship; build from source with g++ present.");
                log.WriteLine("--device emulated: the CUDA kernels run on the CPU through the host emulation (slow; for checking the GPU code path)");
                return new EmulatedBackend();
            default:
                throw new ArgumentException($"--device must be one of {string.Join(", ", Devices)} (got '{device}').");
        }
    }

    /// <summary>
    /// As <see cref="Select"/>, except that an explicit --device cuda never falls back to the CPU: a benchmark or
    /// self-test that quietly ran on the CPU would report the wrong machine. Throws <see cref="NotSupportedException"/>
    /// (exit code 1 through the CLI's guard) with the reason instead.
    /// </summary>
    public static IBackend SelectStrict(string device, string dtype, TextWriter log, MathPrecision precision = MathPrecision.Tf32)
    {
        if (device == "cuda" && Cuda(out var reason) is null) throw new NotSupportedException(CudaUnavailable(reason));
        return Select(device, dtype, log, precision);
    }

    /// <summary>The one line for an explicit --device cuda without a usable GPU (the probe's reason is worded for training's fallback, hence the trimmed tail).</summary>
    public static string CudaUnavailable(string reason) =>
        $"--device cuda needs a usable NVIDIA GPU and there is none: {reason.Replace("; using the CPU backend", "")}. Nothing was run.";

    /// <summary>The process's one CUDA backend (a context and a compiled module are worth keeping), or null with the reason.</summary>
    public static CudaBackend? Cuda(out string reason)
    {
        lock (Gate)
        {
            if (_cudaReason is null) _cuda = CudaBackend.TryCreate(out _cudaReason, CudaOrdinal);
            reason = _cudaReason;
            return _cuda;
        }
    }
}

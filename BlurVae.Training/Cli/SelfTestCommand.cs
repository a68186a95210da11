using System.CommandLine;
using BlurVae.Kernels;
using BlurVae.Kernels.Cpu;
using BlurVae.Training.SelfTest;
using BlurVae.Training.Train;

namespace BlurVae.Training.Cli;

/// <summary>
/// `blurvae selftest --device cuda|emulated [--quick]`: the backend parity suite (<see cref="BackendParity"/>) of the
/// chosen backend against the CPU backend in float64, in-process, so that a machine with a GPU but no .NET SDK can
/// check the kernels with the published executable alone.
/// </summary>
public static class SelfTestCommand
{
    /// <summary>Every check passed.</summary>
    public const int ExitPassed = 0;
    /// <summary>At least one check failed.</summary>
    public const int ExitFailed = 1;
    /// <summary>The requested backend cannot run here (no usable GPU, or no host kernels library for the emulation); nothing was tested.</summary>
    public const int ExitUnavailable = 2;

    public static Command Create()
    {
        var device = new Option<string>("--device")
        {
            Description = "Backend to test against the CPU backend: cuda (the GPU) or emulated (the CUDA kernels run on the host)",
            DefaultValueFactory = _ => "cuda",
        };
        device.AcceptOnlyFromAmong("cuda", "emulated");
        var quick = new Option<bool>("--quick") { Description = "Fewer and smaller cases per op (every op and direction is still checked) and a smaller training step" };
        var precision = new Option<string>("--precision")
        {
            Description = "tf32 (default): also check the GPU's tensor-core convolutions, at TF32 tolerances; fp32: strict FP32 only. Every other check runs in FP32",
            DefaultValueFactory = _ => "tf32",
        };
        precision.AcceptOnlyFromAmong(MathPrecisions.Names);
        var seed = new Option<int>("--seed") { Description = "Seed of the random inputs", DefaultValueFactory = _ => new ParityOptions().Seed };
        var command = new Command("selftest",
            $"Compare every backend op, and one training step, with the CPU backend. Exit code {ExitPassed}: all passed; {ExitFailed}: a check failed; {ExitUnavailable}: the backend cannot run here.");
        command.Options.Add(device);
        command.Options.Add(quick);
        command.Options.Add(seed);
        command.Options.Add(precision);
        command.SetAction(r => Run(r.GetValue(device)!, r.GetValue(quick), r.GetValue(seed), Console.Out, Console.Error,
                                   MathPrecisions.Parse(r.GetValue(precision)!)));
        return command;
    }

    public static int Run(string device, bool quick, int seed, TextWriter output, TextWriter error, MathPrecision precision = MathPrecision.Tf32)
    {
        var candidate = Resolve(device, output, out string? unavailable);
        if (candidate is null)
        {
            error.WriteLine($"blurvae selftest: {unavailable}");
            return ExitUnavailable;
        }
        // Strict FP32 for every check; the conv checks add their TF32 pass themselves (ParityOptions.Precision).
        BackendSelection.Configure(candidate, MathPrecision.Fp32, null);
        return RunAgainstCpu(candidate, quick, seed, output, precision);
    }

    /// <summary>The suite of <paramref name="candidate"/> against the CPU backend, a summary, and the exit code.</summary>
    internal static int RunAgainstCpu(IBackend candidate, bool quick, int seed, TextWriter output, MathPrecision precision = MathPrecision.Tf32)
    {
        var result = BackendParity.Run(candidate, CpuBackend.Instance, new ParityOptions { Quick = quick, Seed = seed, Precision = precision }, output);
        output.WriteLine(result.AllPassed ? $"selftest PASSED: {result.Summary}" : $"selftest FAILED: {result.Summary}");
        foreach (var failure in result.Failures) output.WriteLine("  " + failure.Line);
        return result.AllPassed ? ExitPassed : ExitFailed;
    }

    /// <summary>The backend for --device, or null with the reason it cannot run here.</summary>
    private static IBackend? Resolve(string device, TextWriter log, out string? unavailable)
    {
        unavailable = null;
        switch (device)
        {
            case "cuda":
            {
                // Not BackendSelection.Select: training falls back to the CPU without a GPU; a self-test must not.
                // (The reason is worded for training, hence the trimmed tail.)
                var cuda = BackendSelection.Cuda(out var reason);
                if (cuda is null)
                    unavailable = $"--device cuda needs a usable NVIDIA GPU and there is none: {reason.Replace("; using the CPU backend", "")}. Nothing was tested.";
                return cuda;
            }
            case "emulated":
                try
                {
                    return BackendSelection.Select(device, "f32", log);
                }
                catch (NotSupportedException e)
                {
                    // The emulated device needs the host build of the kernels (libblurvae_kernels_host.so).
                    unavailable = e.Message;
                    return null;
                }
            default:
                throw new ArgumentException($"--device must be cuda or emulated (got '{device}').");
        }
    }
}

using System.Globalization;
using BlurVae.Kernels.Cpu;
using BlurVae.Training.Train;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// Runs the benchmark: per configuration and part, the FLOP count, then R repeats interleaved ours, PyTorch, ours,
/// PyTorch… so both engines see the same machine state (a build on a shared machine slows both, not one). Each of our
/// repeats runs W untimed and S timed passes in this process; each PyTorch repeat is a fresh bench.py process doing
/// the same W and S. Both sides reset the kernel's peak-RSS mark after the warm-up and read it after the timed passes.
/// </summary>
public static class BenchRunner
{
    public static BenchReport Run(BenchOptions options, string command, TextWriter log)
    {
        options.Validate();
        var backend = BackendSelection.SelectStrict(options.Device, "f32", log, MathPrecisions.Parse(options.Precision));
        PyTorchRunner? reference = null;
        string? referenceMissing = null;
        if (options.Against == "pytorch")
        {
            var script = PyTorchRunner.FindScript(options.Reference, out var searched);
            reference = new PyTorchRunner(options.Python ?? TorchPython.Path ?? "python3", script);
            if (script is null) referenceMissing = $"{PyTorchRunner.RelativeScript} not found (looked at {searched})";
        }

        int savedThreads = CpuBackend.Threads;
        CpuBackend.Threads = options.Threads;
        var results = new List<PartResult>();
        try
        {
            foreach (var baseConfig in options.Configs)
            {
                var config = baseConfig with { Loss = options.Loss };
                var ours = new OursRunner(config, backend, options.Seed, cudaGraph: !options.NoCudaGraph);
                foreach (var part in options.Parts)
                {
                    var flops = ours.CountFlops(part);
                    log.WriteLine($"{config.Name} {part}: {config.Describe()}; {flops.Total.Total / 1e9:F2} GFLOP per pass " +
                                  $"({flops.Forward.Total / 1e9:F2} forward, {flops.Backward.Total / 1e9:F2} backward; FFTs {flops.Total.Fft / 1e9:F3}).");
                    var ourTimes = new Measurement("blurvae", options.Device, options.Threads)
                    {
                        DeviceName = backend.GetType().Name,
                        Command = command,
                    };
                    Measurement? theirs = null;
                    List<string>? args = null;
                    if (reference is not null)
                    {
                        args = PyTorchRunner.Arguments(config, part, options.ReferenceDevice, options.Threads, options.Warmup, options.Steps, options.Compile, options.Seed);
                        theirs = referenceMissing is null
                            ? new Measurement("pytorch", options.ReferenceDevice, options.Threads) { Command = reference.CommandLine(args), Compiled = options.Compile }
                            : Measurement.Unavailable("pytorch", options.ReferenceDevice, options.Threads, referenceMissing, reference.CommandLine(args));
                    }
                    for (int r = 0; r < options.Repeats; r++)
                    {
                        var (steps, peak, counters) = ours.Repeat(part, options.Warmup, options.Steps);
                        ourTimes.AddRepeat(steps, peak, counters);
                        string line = $"  repeat {r + 1}/{options.Repeats}: blurvae {steps.Average():F1} ms";
                        if (theirs is { Available: true } && reference is not null && args is not null)
                        {
                            var outcome = reference.Run(args, options.ReferenceTimeout);
                            if (outcome.Error is not null)
                            {
                                theirs = theirs with { Reason = outcome.Error };
                                line += $", pytorch unavailable: {outcome.Error}";
                            }
                            else
                            {
                                theirs.AddRepeat(outcome.StepMs!, outcome.Info?["peak_working_set_mib"]?.GetValue<double>());
                                theirs = theirs with
                                {
                                    Version = Text(outcome.Info, "torch") ?? theirs.Version,
                                    DeviceName = Text(outcome.Info, "device_name") ?? theirs.DeviceName,
                                    Compiled = outcome.Info?["compiled"]?.GetValue<bool>() ?? theirs.Compiled,
                                };
                                line += $", pytorch {outcome.StepMs!.Average():F1} ms";
                            }
                        }
                        log.WriteLine(line);
                    }
                    // A repeat that failed after others worked still makes the engine unavailable: no partial numbers.
                    if (theirs is { Available: false }) theirs = theirs with { RepeatMs = [], StepMs = [] };
                    results.Add(new PartResult(config, part, flops, ourTimes, theirs));
                }
            }
        }
        finally
        {
            CpuBackend.Threads = savedThreads;
        }
        return new BenchReport(options, MachineInfo.Collect(), DateTimeOffset.UtcNow, command, results);
    }

    private static string? Text(System.Text.Json.Nodes.JsonObject? info, string key) =>
        info?[key] is { } node ? Convert.ToString(node.ToString(), CultureInfo.InvariantCulture) : null;
}

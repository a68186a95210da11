using System.Globalization;
using BlurVae.Kernels.Cpu;
using BlurVae.Training.Train;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// Runs the benchmark: per configuration and part, the FLOP count, then R repeats interleaved ours, PyTorch, libtorch,
/// ours, … (the --against engines in order) so every engine sees the same machine state (a build on a shared machine
/// slows all, not one). Each of our repeats runs W untimed and S timed passes in this process; each of theirs is a
/// fresh process (bench.py, BlurVae.LibTorchBench) doing the same W and S, whose model must have our parameter counts.
/// All reset the kernel's peak-RSS mark after the warm-up and read it after the timed passes.
/// </summary>
public static class BenchRunner
{
    public static BenchReport Run(BenchOptions options, string command, TextWriter log)
    {
        options.Validate();
        var engines = options.Engines.Select(e => e == "pytorch"
            ? (ReferenceEngine)PyTorchRunner.Find(options.Python ?? TorchPython.Path ?? "python3", options.Reference)
            : LibTorchRunner.Find(options.LibTorchBench)).ToList();
        var backend = BackendSelection.SelectStrict(options.Device, "f32", log, MathPrecisions.Parse(options.Precision));

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
                    var args = ReferenceEngine.Arguments(config, part, options.ReferenceDevice, options.Threads, options.Warmup, options.Steps, options.Compile, options.Seed);
                    var theirs = engines.Select(e => e.Missing is { } missing
                        ? Measurement.Unavailable(e.Engine, options.ReferenceDevice, options.Threads, missing, e.CommandLine(args))
                        : new Measurement(e.Engine, options.ReferenceDevice, options.Threads) { Command = e.CommandLine(args), Compiled = options.Compile && e.Engine == "pytorch" }).ToList();
                    for (int r = 0; r < options.Repeats; r++)
                    {
                        var (steps, peak, counters) = ours.Repeat(part, options.Warmup, options.Steps);
                        ourTimes.AddRepeat(steps, peak, counters);
                        string line = $"  repeat {r + 1}/{options.Repeats}: blurvae {steps.Average():F1} ms";
                        for (int e = 0; e < engines.Count; e++)
                        {
                            if (!theirs[e].Available) continue;
                            var outcome = engines[e].Run(args, options.ReferenceTimeout);
                            string? error = outcome.Error ?? engines[e].CompareParameters(outcome.Info, ours.Trainer.Vae.ParameterCount(), ours.Trainer.Generator.ParameterCount());
                            if (error is not null)
                            {
                                theirs[e] = theirs[e] with { Reason = error };
                                line += $", {engines[e].Engine} unavailable: {error}";
                                continue;
                            }
                            theirs[e].AddRepeat(outcome.StepMs!, outcome.Info?["peak_working_set_mib"]?.GetValue<double>());
                            theirs[e] = theirs[e] with
                            {
                                Version = Text(outcome.Info, "torch") ?? theirs[e].Version,
                                DeviceName = Text(outcome.Info, "device_name") ?? theirs[e].DeviceName,
                                Compiled = outcome.Info?["compiled"]?.GetValue<bool>() ?? theirs[e].Compiled,
                            };
                            line += $", {engines[e].Engine} {outcome.StepMs!.Average():F1} ms";
                        }
                        log.WriteLine(line);
                    }
                    // A repeat that failed after others worked still makes the engine unavailable: no partial numbers.
                    theirs = theirs.Select(m => m.Available ? m : m with { RepeatMs = [], StepMs = [] }).ToList();
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

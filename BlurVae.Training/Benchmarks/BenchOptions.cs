using BlurVae.Training.Train;

namespace BlurVae.Training.Benchmarks;

/// <summary>The settings of one `blurvae bench` run; defaults keep fashion32 on 2 CPU cores to about two minutes.</summary>
public sealed record BenchOptions
{
    public IReadOnlyList<BenchConfig> Configs { get; init; } = [BenchConfig.Fashion32];
    public string Device { get; init; } = "cpu";
    /// <summary>--precision of our GPU backends' convolutions and GEMMs: "tf32" or "fp32".</summary>
    public string Precision { get; init; } = "tf32";
    public int Threads { get; init; } = 2;
    public int Repeats { get; init; } = 2;
    /// <summary>Timed steps per repeat: enough for a steady-state median and p10/p90.</summary>
    public int Steps { get; init; } = 20;
    /// <summary>Untimed steps before each repeat's timed ones (first-touched memory, JIT tiers, caches).</summary>
    public int Warmup { get; init; } = 5;
    /// <summary>"pytorch", "libtorch", both comma-separated (run interleaved in that order), or "none".</summary>
    public string Against { get; init; } = "pytorch";
    /// <summary>Path of the built BlurVae.LibTorchBench.dll; null = <see cref="LibTorchRunner.RelativeDll"/> in the repository.</summary>
    public string? LibTorchBench { get; init; }
    public bool Compile { get; init; }
    /// <summary>"step", "loss", or both in that order.</summary>
    public IReadOnlyList<string> Parts { get; init; } = ["step", "loss"];
    public LossKind Loss { get; init; } = LossKind.Wiener;
    /// <summary>The machine's SGEMM rate to compare the step's GFLOP/s with (e.g. OpenBLAS at 1024³), or null.</summary>
    public double? SgemmGflops { get; init; }
    /// <summary>The interpreter for the PyTorch side; null = the one TorchPython finds (the rule shared with the
    /// cross-checks), probed only when PyTorch is actually run.</summary>
    public string? Python { get; init; }
    /// <summary>Path of reference/pytorch/bench.py; null = found above the working directory.</summary>
    public string? Reference { get; init; }
    public int Seed { get; init; } = 1;
    /// <summary>--no-cuda-graph: our GPU step enqueued eagerly every time, not replayed as a captured CUDA graph.</summary>
    public bool NoCudaGraph { get; init; }
    /// <summary>The longest one PyTorch repeat may run.</summary>
    public TimeSpan ReferenceTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public void Validate()
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Configs.Count > 0, "--config names no configuration.");
        Require(Device is "cpu" or "cuda" or "emulated", $"--device must be cpu, cuda or emulated (got '{Device}').");
        Require(MathPrecisions.Names.Contains(Precision), $"--precision must be tf32 or fp32 (got '{Precision}').");
        Require(Threads >= 1, $"--threads must be at least 1 (got {Threads}).");
        Require(Repeats >= 1, $"--repeats must be at least 1 (got {Repeats}).");
        Require(Steps >= 1, $"--steps must be at least 1 (got {Steps}).");
        Require(Warmup >= 0, $"--warmup must be ≥ 0 (got {Warmup}).");
        Require(Against == "none" || (Engines.Count > 0 && Engines.All(e => e is "pytorch" or "libtorch") && Engines.Distinct().Count() == Engines.Count),
            $"--against must be pytorch, libtorch, pytorch,libtorch or none (got '{Against}').");
        Require(!Engines.Contains("libtorch") || Device is "cpu" or "emulated",
            "--against libtorch runs libtorch on the CPU (TorchSharp-cpu): use it with --device cpu, or compare --device cuda with --against pytorch.");
        Require(Parts.Count > 0 && Parts.All(p => p is "step" or "loss"), $"--part must be step, loss or all (got '{string.Join(",", Parts)}').");
        Require(Loss is LossKind.Wiener or LossKind.L2, $"--loss must be wiener or l2 (got '{Loss.ToString().ToLowerInvariant()}').");
        Require(SgemmGflops is null || SgemmGflops > 0, $"--sgemm-gflops must be positive (got {SgemmGflops}).");
        Require(!Compile || Engines.Contains("pytorch"), $"--compile applies to PyTorch; it contradicts --against {Against}.");
    }

    /// <summary>The engines of --against in order ("pytorch", "libtorch"); empty for none.</summary>
    public IReadOnlyList<string> Engines => Against == "none" ? [] : Against.Split(',', StringSplitOptions.TrimEntries);

    /// <summary>The device bench.py runs on: our emulated backend is the CPU, so PyTorch runs on the CPU beside it.</summary>
    public string ReferenceDevice => Device == "cuda" ? "cuda" : "cpu";
}

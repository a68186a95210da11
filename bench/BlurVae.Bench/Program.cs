using BenchmarkDotNet.Running;
using BlurVae.Bench;

// blurvae-bench gemm [size] [threads] [repeats]   our SGEMM/DGEMM against OpenBLAS at size³ (default 1024, 2 threads)
//                                          and at the step's GEMM shapes, with % of the FMA peak (repeats: timed runs per row)
// blurvae-bench peak                      the machine's float32 FMA roofline (register-only loops; zmm and ymm, 1 and all threads)
// blurvae-bench conv [layer] [--cpu-time]  effective GFLOP/s of the CPU convolutions at architecture A's layer shapes
//                                          (only the layers whose name contains [layer], e.g. "enc3", when given;
//                                          --cpu-time: one thread, timed by the process's CPU time, for a shared machine)
// blurvae-bench phases [config] [steps] [--alloc]   a CPU training step's time and managed allocation per phase; per step GCs,
//                                          pool work items, parallel loops, context switches, JIT (default fashion32, 20 steps);
//                                          --alloc lists the allocated types (sampled) and the methods JIT-compiled
// blurvae-bench micro [BenchmarkDotNet args]   micro-benchmarks of the CPU ops
var verb = args.Length > 0 ? args[0] : "gemm";
switch (verb)
{
    case "gemm":
        int size = args.Length > 1 ? ParsePositive(args[1], "size") : 1024;
        int threads = args.Length > 2 ? ParsePositive(args[2], "threads") : 2;
        return GemmComparison.Run(size, threads, repeats: args.Length > 3 ? ParsePositive(args[3], "repeats") : 0);
    case "peak":
        return FmaPeak.Run();
    case "conv":
        return ConvThroughput.Run(only: args.Skip(1).FirstOrDefault(a => !a.StartsWith("--")), cpuTime: args.Contains("--cpu-time"));
    case "phases":
        return StepPhaseTimes.Run(args.Length > 1 ? args[1] : "fashion32", args.Length > 2 ? ParsePositive(args[2], "steps") : 20,
                                  sampleAllocations: args.Contains("--alloc"));
    case "micro":
        BenchmarkSwitcher.FromAssembly(typeof(CpuOpBenchmarks).Assembly).Run(args.Skip(1).DefaultIfEmpty("--filter=*").ToArray());
        return 0;
    default:
        Console.Error.WriteLine($"Unknown verb '{verb}'. Use 'gemm [size] [threads] [repeats]', 'peak', 'conv [layer] [--cpu-time]', 'phases [config] [steps]' or 'micro [BenchmarkDotNet options]'.");
        return 2;
}

static int ParsePositive(string text, string name)
{
    if (int.TryParse(text, out int v) && v > 0) return v;
    Console.Error.WriteLine($"{name} must be a positive integer, got '{text}'.");
    Environment.Exit(2);
    return 0;
}

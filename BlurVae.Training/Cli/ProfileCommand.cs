using System.CommandLine;
using BlurVae.Kernels;
using BlurVae.Kernels.Device;
using BlurVae.Training.Benchmarks;

namespace BlurVae.Training.Cli;

/// <summary>
/// `blurvae profile`: the structure of one training step of fashion32/celeba64 on the CUDA code path, counted on the
/// recording device without a GPU (<see cref="StepProfile"/>): stream operations, launches by kernel, cuBLAS/cuFFT
/// calls, memsets, copies, host syncs, allocations, launches under two waves of the target's SMs, and a roofline
/// lower bound (an estimate).
/// </summary>
internal static class ProfileCommand
{
    public static Command Create(Func<Func<int>, int> guard)
    {
        var config = new Option<string>("--config") { Description = "Model and batch: fashion32, celeba64 or all (BlurVae.Training/Benchmarks/BenchConfig.cs, as for bench)", DefaultValueFactory = _ => "celeba64" };
        var gpu = new Option<string>("--gpu") { Description = $"Target GPU of the wave count and the roofline estimate: {string.Join(", ", GpuSpec.Known.Select(g => g.Key))}", DefaultValueFactory = _ => GpuSpec.H100Sxm.Key };
        var warmup = new Option<int>("--warmup") { Description = "Uncounted steps first (the first step allocates what later steps reuse)", DefaultValueFactory = _ => 2 };
        var steps = new Option<int>("--steps") { Description = "Counted steps; the last is reported, every one is in the JSON", DefaultValueFactory = _ => 2 };
        var seed = new Option<int>("--seed") { Description = "Seed of weights and data", DefaultValueFactory = _ => 1 };
        var precision = new Option<string>("--precision") { Description = "Maths of the convolutions counted: tf32 (tensor cores, the default on GPUs) or fp32 (SIMT)", DefaultValueFactory = _ => MathPrecisions.Names[0] };
        precision.AcceptOnlyFromAmong(MathPrecisions.Names);
        var cudaGraph = new Option<bool>("--cuda-graph") { Description = "Profile the step as train and bench run it on a GPU by default: captured once, then replayed as one CUDA graph launch (graph_launches, graph_operations); default: every operation enqueued eagerly, the step's structure" };
        var json = new Option<FileInfo?>("--json") { Description = "Write the counts, per-kernel detail and estimate as JSON here (with --config all: one file per configuration, the name suffixed)" };

        var command = new Command("profile",
            "Count the stream operations of one training step on the CUDA code path without a GPU: every launch checked as on the device, nothing computed. Per step after warm-up: launches by kernel, cuBLAS and cuFFT calls, memsets, copies, host syncs, device allocations, launches under two waves of SMs, and a roofline lower bound (an estimate).");
        foreach (var o in new Option[] { config, gpu, warmup, steps, seed, precision, cudaGraph, json }) command.Options.Add(o);
        command.SetAction(r => guard(() =>
        {
            var configs = BenchConfig.Select(r.GetValue(config)!);
            var target = GpuSpec.Find(r.GetValue(gpu)!);
            int w = r.GetValue(warmup), s = r.GetValue(steps);
            if (w < 0) throw new ArgumentException($"--warmup must be >= 0 (got {w}).");
            if (s < 1) throw new ArgumentException($"--steps must be >= 1 (got {s}).");
            if (r.GetValue(cudaGraph) && w < Train.StepGraphs.EagerStepsBeforeCapture + 1)
                throw new ArgumentException($"--cuda-graph needs --warmup {Train.StepGraphs.EagerStepsBeforeCapture + 1} or more (eager steps, then the capture; got {w}).");
            foreach (var c in configs)
            {
                var report = StepProfile.Run(c, target, w, s, r.GetValue(seed), MathPrecisions.Parse(r.GetValue(precision)!), r.GetValue(cudaGraph));
                report.WriteText(Console.Out);
                if (r.GetValue(json) is FileInfo j)
                {
                    string path = configs.Count == 1 ? j.FullName : Path.ChangeExtension(j.FullName, null) + "." + c.Name + (j.Extension.Length > 0 ? j.Extension : ".json");
                    report.WriteJson(path);
                    Console.Out.WriteLine($"Wrote {path}");
                }
                Console.Out.WriteLine();
            }
            return 0;
        }));
        return command;
    }
}

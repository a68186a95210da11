using System.CommandLine;
using BlurVae.Training.Benchmarks;
using BlurVae.Training.Train;

namespace BlurVae.Training.Cli;

/// <summary>`blurvae bench`: our training step against PyTorch's and/or libtorch's on the same machine (BlurVae.Training/Benchmarks).</summary>
internal static class BenchCommand
{
    private static readonly BenchOptions D = new();

    public static Command Create(Func<Func<int>, int> guard)
    {
        var config = new Option<string>("--config") { Description = "Model and batch: fashion32 (1×32×32, A [32,64,128,256], latent 32), celeba64 (3×64×64, A [64,128,256,512], latent 256), or all; batch 64, kernel 11", DefaultValueFactory = _ => "fashion32" };
        var device = new Option<string>("--device") { Description = "Our backend: cpu, cuda or emulated (PyTorch runs on cuda for cuda, else on the CPU)", DefaultValueFactory = _ => D.Device };
        var precision = new Option<string>("--precision") { Description = "Maths of our GPU backend's convolutions and GEMMs: tf32 (tensor cores; PyTorch's default for convolutions) or fp32", DefaultValueFactory = _ => D.Precision };
        precision.AcceptOnlyFromAmong(BlurVae.Kernels.MathPrecisions.Names);
        var threads = new Option<int>("--threads") { Description = "CPU threads for every engine", DefaultValueFactory = _ => D.Threads };
        var repeats = new Option<int>("--repeats") { Description = "Repeats per engine, interleaved ours/PyTorch/libtorch; the median, p10 and p90 are over every timed step of every repeat", DefaultValueFactory = _ => D.Repeats };
        var steps = new Option<int>("--steps") { Description = "Timed steps per repeat (the peak working set is read over them)", DefaultValueFactory = _ => D.Steps };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps before each repeat's timed steps", DefaultValueFactory = _ => D.Warmup };
        var against = new Option<string>("--against") { Description = $"pytorch (runs reference/pytorch/bench.py with python3), libtorch (libtorch 2.10 on the CPU through TorchSharp: bench/BlurVae.LibTorchBench, built by {LibTorchRunner.SetupScript}), pytorch,libtorch (both, interleaved) or none", DefaultValueFactory = _ => D.Against };
        var compile = new Option<bool>("--compile") { Description = "PyTorch with torch.compile (torch 2.x)" };
        var part = new Option<string>("--part") { Description = "step (ELBO + Adam, then the G_γ step), loss (Wiener + kernel fit forward and backward alone), or all", DefaultValueFactory = _ => "all" };
        var loss = new Option<string>("--loss") { Description = "Reconstruction term of the step and of the loss part: wiener (active, i.e. after warm-up) or l2", DefaultValueFactory = _ => "wiener" };
        var sgemm = new Option<double?>("--sgemm-gflops") { Description = "The machine's SGEMM GFLOP/s (e.g. OpenBLAS at 1024³ from `BlurVae.Bench gemm`): prints our GFLOP/s as a share of it" };
        var python = new Option<string?>("--python") { Description = "Python interpreter for the PyTorch side (default: the first of BLURVAE_PYTHON, $VIRTUAL_ENV, /opt/torch/.venv, python3, /usr/bin/python3 that can import torch)" };
        var reference = new Option<string?>("--reference") { Description = $"Path of bench.py (default: {PyTorchRunner.RelativeScript} above the working directory)" };
        var libtorchBench = new Option<string?>("--libtorch-bench") { Description = $"The built libtorch benchmark for --against libtorch: its dll (run with dotnet) or executable (default: {LibTorchRunner.RelativeDll} above the working directory)" };
        var seed = new Option<int>("--seed") { Description = "Seed of weights and data", DefaultValueFactory = _ => D.Seed };
        var noCudaGraph = new Option<bool>("--no-cuda-graph") { Description = "Our GPU step enqueued eagerly every time instead of replayed as a captured CUDA graph (the default where the capture succeeds)" };
        var json = new Option<FileInfo?>("--json") { Description = "Write the results, machine and commands as JSON here" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Write the markdown table here" };

        var command = new Command("bench", "Time the full training step (and the loss alone) of fashion32/celeba64 in BlurVae and in PyTorch and/or libtorch, interleaved; print ms/step, images/s, GFLOP/s and the speed-up.");
        foreach (var o in new Option[] { config, device, precision, threads, repeats, steps, warmup, against, compile, part, loss, sgemm, python, reference, libtorchBench, seed, noCudaGraph, json, markdown })
            command.Options.Add(o);
        command.SetAction(r => guard(() =>
        {
            string partText = r.GetValue(part)!;
            var options = new BenchOptions
            {
                Configs = BenchConfig.Select(r.GetValue(config)!),
                Device = r.GetValue(device)!,
                Precision = r.GetValue(precision)!,
                Threads = r.GetValue(threads),
                Repeats = r.GetValue(repeats),
                Steps = r.GetValue(steps),
                Warmup = r.GetValue(warmup),
                Against = r.GetValue(against)!,
                Compile = r.GetValue(compile),
                Parts = partText == "all" ? ["step", "loss"] : [partText],
                Loss = r.GetValue(loss) switch
                {
                    "wiener" => LossKind.Wiener,
                    "l2" => LossKind.L2,
                    var other => throw new ArgumentException($"--loss must be wiener or l2 (got '{other}')."),
                },
                SgemmGflops = r.GetValue(sgemm),
                Python = r.GetValue(python),
                Reference = r.GetValue(reference),
                LibTorchBench = r.GetValue(libtorchBench),
                Seed = r.GetValue(seed),
                NoCudaGraph = r.GetValue(noCudaGraph),
            };
            options.Validate();
            string commandLine = "blurvae " + string.Join(" ", r.Tokens.Select(t => t.Value));
            var report = BenchRunner.Run(options, commandLine, Console.Out);
            report.WriteTable(Console.Out);
            if (r.GetValue(json) is FileInfo j)
            {
                report.WriteJson(j.FullName);
                Console.Out.WriteLine($"Wrote {j.FullName}");
            }
            if (r.GetValue(markdown) is FileInfo m)
            {
                report.WriteMarkdown(m.FullName);
                Console.Out.WriteLine($"Wrote {m.FullName}");
            }
            return 0;
        }));
        return command;
    }
}

using BlurVae.Training.Distributed;
using BlurVae.Training.Metrics;
using BlurVae.Training.Reports;
using BlurVae.Training.Train;

namespace BlurVae.Training.Cli;

/// <summary>What each verb does, given its parsed options. Returns the process exit code.</summary>
public static class RunCommands
{
    public static int Train(TrainOptions options, bool resume, DistributedOptions distributed, int threads, TextWriter log, IEnumerable<string>? given = null)
    {
        if (threads < 0) throw new ArgumentException($"--threads must be ≥ 0 (0 = the cores divided among the ranks on this machine; got {threads}).");
        distributed.Validate();
        if (!distributed.Enabled)
        {
            if (threads > 0) Kernels.Cpu.CpuBackend.Threads = threads;
            return TrainAndReport(TrainingRun.Open(options, resume, log, given), log);
        }
        var parallel = DataParallel.Start(distributed, Console.Error);
        BackendSelection.CudaOrdinal = DataParallel.LocalRank; // one GPU per process: the rank's local rank
        Kernels.Cpu.CpuBackend.Threads = threads > 0 ? threads : DataParallel.DefaultThreads;
        Console.WriteLine($"rank {parallel.Rank} of {parallel.WorldSize}: pid {Environment.ProcessId} on {Environment.MachineName}, {Kernels.Cpu.CpuBackend.Threads} CPU threads");
        // Rank 0 alone reports (and writes the run's files); the others stay quiet unless they fail.
        int code = TrainAndReport(TrainingRun.Open(options, resume, parallel.IsRoot ? log : TextWriter.Null, given, parallel), parallel.IsRoot ? log : TextWriter.Null);
        // Only a run that ended normally on this rank finalises MPI; a rank that throws exits without it and mpirun
        // ends the others (MPI_Finalize would wait for them).
        parallel.Dispose();
        return code;
    }

    private static int TrainAndReport(TrainingRun run, TextWriter log)
    {
        var last = run.Train();
        log.WriteLine($"Run folder: {run.Folder}");
        if (last is not null) log.WriteLine(last.ToText());
        return 0;
    }

    /// <summary>A trainer restored from a run folder's checkpoint, with the run's data.</summary>
    internal static (Trainer Trainer, TrainingRun.Loaded Data) Restore(DirectoryInfo run, string? data, TextWriter log)
    {
        string checkpoint = Path.Combine(run.FullName, TrainingCheckpoint.FileName);
        if (!File.Exists(checkpoint))
            throw new FileNotFoundException($"--run: '{run.FullName}' has no {TrainingCheckpoint.FileName}; train first (blurvae train --out {run.FullName}).");
        var (options, channels, side) = TrainingCheckpoint.ReadHeader(checkpoint);
        if (data is not null) options = options with { Data = data };
        TrainingMemory.Check(options, channels, side);
        var trainer = new Trainer(options, channels, side, BackendSelection.Select(options.Device, options.Dtype, log, MathPrecisions.Parse(options.Precision), options.Verbose));
        TrainingCheckpoint.Load(trainer, checkpoint);
        return (trainer, new TrainingRun.Loaded(options, side));
    }

    public static int Eval(DirectoryInfo run, string? data, TextWriter log) => Eval(run, data, new PaperEvaluationOptions(), log);

    public static int Eval(DirectoryInfo run, string? data, PaperEvaluationOptions paper, TextWriter log)
    {
        paper.Validate();
        var (trainer, loaded) = Restore(run, data, log);
        var (split, _) = TrainingRun.LoadData(loaded.Options, loaded.Side);
        RequireChannels(split.Test, trainer, loaded.Options.Data);
        var table = Evaluation.Run(trainer, split.Test, loaded.Options.BatchSize,
            $"{split.Test.Count} test images of {split.Test.Name}, after epoch {trainer.Epoch} ({loaded.Options.Loss.ToString().ToLowerInvariant()} loss)");
        var notes = PaperEvaluation.AddTo(table, trainer, split.Test, loaded.Options.BatchSize, paper);
        log.WriteLine(table.ToText());
        foreach (var note in notes) log.WriteLine(note);
        string markdown = Path.Combine(run.FullName, "eval.md");
        AtomicFile.WriteAllText(markdown, table.ToMarkdown() + string.Concat(notes.Select(n => "\n" + n + "\n")));
        log.WriteLine($"Wrote {markdown}");
        return 0;
    }

    public static int Sample(DirectoryInfo run, int count, FileInfo? output, int seed, TextWriter log)
    {
        if (count < 1) throw new UserError($"--count must be positive (got {count}).");
        RequirePictureExtension(output);
        var (trainer, _) = Restore(run, null, log);
        TrainingMemory.CheckInference(trainer.Options, trainer.Channels, trainer.Side, count, "--count");
        string path = output?.FullName ?? Path.Combine(run.FullName, "samples-prior.png");
        using (GradMode.NoGrad())
        {
            trainer.Vae.Eval();
            var z = Tensor.Randn([count, trainer.Options.Latent], new Random(seed), trainer.DType, trainer.Backend);
            ImageGrid.SaveSamples(path, trainer.Vae.Decode(z), columns: (int)Math.Ceiling(Math.Sqrt(count)), scale: 3);
        }
        log.WriteLine($"Wrote {count} samples from the prior to {path}");
        return 0;
    }

    public static int Reconstruct(DirectoryInfo run, string? data, int count, FileInfo? output, TextWriter log)
    {
        if (count < 1) throw new UserError($"--count must be positive (got {count}).");
        RequirePictureExtension(output);
        var (trainer, loaded) = Restore(run, data, log);
        var (split, _) = TrainingRun.LoadData(loaded.Options, loaded.Side);
        RequireChannels(split.Test, trainer, loaded.Options.Data);
        count = Math.Min(count, split.Test.Count);
        TrainingMemory.CheckInference(trainer.Options, trainer.Channels, trainer.Side, count, "--count");
        var x = split.Test.GetBatch(Enumerable.Range(0, count).ToArray(), trainer.DType, trainer.Backend);
        string path = output?.FullName ?? Path.Combine(run.FullName, "reconstruct.png");
        using (GradMode.NoGrad())
        {
            trainer.Vae.Eval();
            trainer.Generator.Eval();
            var (mu, _) = trainer.Vae.Encode(x);
            ImageGrid.SavePairs(path, x, trainer.Vae.Decode(mu), ReconstructColumns, ("input", "reconstruction"), scale: 3);
            string kernels = Path.ChangeExtension(path, null) + "-kernels.png";
            BlurKernelGrid.Save(kernels, [trainer.Generator.Forward(mu)], [$"epoch {trainer.Epoch}"], x);
            log.WriteLine($"Wrote {path} and {kernels}");
        }
        return 0;
    }

    /// <summary>Images per band of the reconstruct grid: wide enough to compare, narrow enough to view.</summary>
    private const int ReconstructColumns = 16;

    private static void RequirePictureExtension(FileInfo? output)
    {
        if (output is not null && !ImageGrid.Extensions.Contains(output.Extension.ToLowerInvariant()))
            throw new UserError($"--out '{output.FullName}' ends in '{output.Extension}'; pictures are written as {string.Join(", ", ImageGrid.Extensions)}: choose one of these extensions.");
    }

    private static void RequireChannels(Data.ImageDataset data, Trainer trainer, string spec)
    {
        if (data.Channels != trainer.Channels)
            throw new UserError($"--data '{spec}' has {(data.Channels == 1 ? "grey (1-channel)" : $"{data.Channels}-channel")} images but the run was trained on " +
                                $"{(trainer.Channels == 1 ? "grey (1-channel)" : $"{trainer.Channels}-channel")} images; pass data with {trainer.Channels} channel(s), or drop --data to use the run's own test split.");
    }
}

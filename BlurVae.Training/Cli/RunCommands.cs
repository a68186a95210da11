using BlurVae.Kernels;
using BlurVae.Training.Engine.Autograd;
using BlurVae.Training.Checkpoints;
using BlurVae.Training.Metrics;
using BlurVae.Training.Reports;
using BlurVae.Training.Engine.Tensors;
using BlurVae.Training.Train;

namespace BlurVae.Training.Cli;

/// <summary>What each verb does, given its parsed options. Returns the process exit code.</summary>
public static class RunCommands
{
    public static int Train(TrainOptions options, bool resume, TextWriter log)
    {
        var run = TrainingRun.Open(options, resume, log);
        var last = run.Train();
        log.WriteLine($"Run folder: {run.Folder}");
        if (last is not null) log.WriteLine(last.ToText());
        return 0;
    }

    /// <summary>A trainer restored from a run folder's checkpoint, with the run's data.</summary>
    private static (Trainer Trainer, TrainingRun.Loaded Data) Restore(DirectoryInfo run, string? data, TextWriter log)
    {
        string checkpoint = Path.Combine(run.FullName, TrainingCheckpoint.FileName);
        if (!File.Exists(checkpoint))
            throw new FileNotFoundException($"--run: '{run.FullName}' has no {TrainingCheckpoint.FileName}; train first (blurvae train --out {run.FullName}).");
        var (options, channels, side) = TrainingCheckpoint.ReadHeader(checkpoint);
        if (data is not null) options = options with { Data = data };
        var trainer = new Trainer(options, channels, side, BackendSelection.Select(options.Device, options.Dtype, log, MathPrecisions.Parse(options.Precision), options.Verbose));
        TrainingCheckpoint.Load(trainer, checkpoint);
        return (trainer, new TrainingRun.Loaded(options, side));
    }

    public static int Eval(DirectoryInfo run, string? data, TextWriter log)
    {
        var (trainer, loaded) = Restore(run, data, log);
        var (split, _) = TrainingRun.LoadData(loaded.Options, loaded.Side);
        if (split.Test.Channels != trainer.Channels)
            throw new ArgumentException($"--data '{loaded.Options.Data}' has {split.Test.Channels} channels; the run was trained on {trainer.Channels}.");
        var table = Evaluation.Run(trainer, split.Test, loaded.Options.BatchSize,
            $"{split.Test.Count} test images of {split.Test.Name}, after epoch {trainer.Epoch} ({loaded.Options.Loss.ToString().ToLowerInvariant()} loss)");
        log.WriteLine(table.ToText());
        table.SaveMarkdown(Path.Combine(run.FullName, "eval.md"));
        return 0;
    }

    public static int Sample(DirectoryInfo run, int count, FileInfo? output, int seed, TextWriter log)
    {
        if (count < 1) throw new ArgumentException($"--count must be positive (got {count}).");
        var (trainer, _) = Restore(run, null, log);
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
        if (count < 1) throw new ArgumentException($"--count must be positive (got {count}).");
        var (trainer, loaded) = Restore(run, data, log);
        var (split, _) = TrainingRun.LoadData(loaded.Options, loaded.Side);
        count = Math.Min(count, split.Test.Count);
        var x = split.Test.GetBatch(Enumerable.Range(0, count).ToArray(), trainer.DType, trainer.Backend);
        string path = output?.FullName ?? Path.Combine(run.FullName, "reconstruct.png");
        using (GradMode.NoGrad())
        {
            trainer.Vae.Eval();
            trainer.Generator.Eval();
            var (mu, _) = trainer.Vae.Encode(x);
            ImageGrid.Save(path, [x, trainer.Vae.Decode(mu)], scale: 3, rowLabels: ["input", "reconstruction"]);
            string kernels = Path.ChangeExtension(path, null) + "-kernels.png";
            BlurKernelGrid.Save(kernels, [trainer.Generator.Forward(mu)], [$"epoch {trainer.Epoch}"], x);
            log.WriteLine($"Wrote {path} and {kernels}");
        }
        return 0;
    }
}

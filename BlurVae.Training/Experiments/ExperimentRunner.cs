using System.Diagnostics;
using System.Globalization;
using BlurVae.Training.Classifier;
using BlurVae.Training.Data;
using BlurVae.Training.Metrics;
using BlurVae.Training.Train;

namespace BlurVae.Training.Experiments;

/// <summary>
/// Runs an <see cref="ExperimentSpec"/>: every cell of methods × β × seeds is a normal run folder
/// (OUT/runs/METHOD/beta-B/seed-S) trained with `train`'s code and resumed from its checkpoint when it exists, then
/// evaluated once (result.json). So the experiment as a whole resumes: run the same command again after a stop.
/// Progress goes to the log per run with an ETA from the epochs still to train at the measured seconds per epoch.
/// </summary>
/// <param name="lpipsWeights">LPIPS weights (--lpips-weights): every run gets an lpips-alex or lpips-vgg metric and the tables an LPIPS column.</param>
/// With Inception weights every run also gets FID rows, and the validation FID of samples selects β (the paper's rule).
public sealed class ExperimentRunner(ExperimentSpec spec, string outDirectory, TextWriter log, string? classifier = null, string? inceptionWeights = null, string? lpipsWeights = null)
{
    public string Folder { get; } = Path.GetFullPath(outDirectory);

    public IReadOnlyList<RunResult> Run()
    {
        Directory.CreateDirectory(Folder);
        var cells = (from m in spec.Methods from b in spec.Betas from s in spec.Seeds
                     select (Method: m, Beta: b, Seed: s, Options: spec.OptionsFor(m, b, s, RunFolder(m.Name, b, s)))).ToList();
        var first = cells[0].Options;
        bool fdApplies = FdApplies(first, out string? why);
        // Loaded before any training, so that a wrong --inception-weights stops the experiment at once.
        var fid = inceptionWeights is null ? null : Fid.Load(inceptionWeights);
        if (spec.Betas.Count > 1 && !fdApplies && fid is null)
            throw new ArgumentException($"{spec.Source}: selecting β among {spec.Betas.Count} values needs the generation FID (pass --inception-weights FILE) " +
                                        $"or FD-FMNIST, which does not apply: {why}. Or list one β in 'betas'.");
        var fd = fdApplies ? new FdFmnist(ClassifierWeights.Load(classifier).Model) : null;
        log.WriteLine($"Experiment '{spec.Name}': {spec.Methods.Count} methods × {spec.Betas.Count} β × {spec.Seeds.Count} seeds = {cells.Count} runs in {Folder}.");

        int remainingEpochs = cells.Sum(c => c.Options.Epochs - CompletedEpochs(c.Options.Out));
        double trainedEpochs = 0, trainedSeconds = 0;
        var results = new List<RunResult>();
        for (int i = 0; i < cells.Count; i++)
        {
            var (method, beta, seed, options) = cells[i];
            string label = $"[{i + 1}/{cells.Count}] {method.Name} β={beta.ToString(CultureInfo.InvariantCulture)} seed {seed}";
            int before = CompletedEpochs(options.Out);
            var clock = Stopwatch.StartNew();
            var run = TrainingRun.Open(options, resume: before > 0, TextWriter.Null);
            if (before < options.Epochs)
            {
                log.WriteLine($"{label}: training epochs {before + 1}–{options.Epochs} in {options.Out}");
                run.Train();
            }
            // A result evaluated without FID or LPIPS is evaluated again once their weights are given.
            var result = RunResult.TryLoad(options.Out, run.Trainer.Epoch) is { } saved && (fid is null || saved.ValidationFidGen is not null)
                         && (lpipsWeights is null || saved.Metrics.Keys.Any(k => k.StartsWith("lpips-", StringComparison.Ordinal)))
                ? saved : Evaluate(run, method.Name, beta, seed, fd, fid);
            results.Add(result);
            // The ETA counts evaluation into the seconds per trained epoch: small runs spend much of their time there.
            double seconds = clock.Elapsed.TotalSeconds;
            int trained = options.Epochs - before;
            if (trained > 0)
            {
                trainedEpochs += trained;
                trainedSeconds += seconds;
                remainingEpochs -= trained;
            }
            string eta = trainedEpochs > 0 ? Duration(remainingEpochs * trainedSeconds / trainedEpochs) : "unknown";
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label}: {(trained > 0 ? $"trained {trained} epoch(s) and evaluated in {Duration(seconds)}" : "already trained")}; " +
                $"psnr {result.Metric("psnr"):F2}, ssim {result.Metric("ssim"):F4}{(result.ValidationFdGen is double v ? $", validation FD-FMNIST-gen {v:F3}" : "")}" +
                $"{(result.ValidationFidGen is double f ? $", validation FID-gen {f:F2}" : "")}. " +
                $"{i + 1}/{cells.Count} runs done, {remainingEpochs} epoch(s) left, ETA {eta}."));
        }
        var report = new ExperimentReport(spec, Folder, results);
        report.Write();
        log.WriteLine(report.Markdown());
        log.WriteLine($"Wrote {Path.Combine(Folder, ExperimentReport.MarkdownFile)}, {ExperimentReport.CsvFile} and {ExperimentReport.HtmlFile}.");
        return results;
    }

    private string RunFolder(string method, double beta, int seed) =>
        Path.Combine(Folder, "runs", method, ExperimentSpec.BetaLabel(beta), $"seed-{seed}");

    private static int CompletedEpochs(string folder)
    {
        string checkpoint = Path.Combine(folder, TrainingCheckpoint.FileName);
        // metrics.jsonl has one line per epoch the checkpoint holds (a resume trims lines of an unsaved epoch).
        return File.Exists(checkpoint) ? TrainingRun.ReadMetrics(folder).Count : 0;
    }

    private bool FdApplies(TrainOptions options, out string? why)
    {
        var (split, side) = TrainingRun.LoadData(options with { MaxImages = 0, MaxTestImages = 0 });
        why = FdFmnist.NotApplicable(split.Train.Channels, side);
        if (why is null && classifier is null && !File.Exists(ClassifierWeights.ShippedPath))
            why = $"the classifier weights {ClassifierWeights.ShippedPath} are missing (pass --classifier FILE)";
        return why is null;
    }

    /// <summary>The held-out validation images: those after the ones the run trains on (max-images, else all but the last V).</summary>
    private ImageDataset Validation(TrainOptions options, int side)
    {
        var (split, _) = TrainingRun.LoadData(options with { MaxImages = 0, MaxTestImages = 0 }, side);
        int total = split.Train.Count, v = spec.ValidationImages;
        int start = options.MaxImages > 0 ? options.MaxImages : total - v;
        if (start < 1 || start + v > total)
            throw new ArgumentException($"{spec.Source}: 'validation-images' {v} do not fit after the {start} training images of the {total} in '{options.Data}'; lower it or max-images.");
        return split.Train.Subset(Enumerable.Range(start, v).ToArray(), $"validation images {start}..{start + v - 1} of {split.Train.Name}");
    }

    private RunResult Evaluate(TrainingRun run, string method, double beta, int seed, FdFmnist? fd, Fid? fid)
    {
        var trainer = run.Trainer;
        var o = trainer.Options;
        var table = Evaluation.Run(trainer, run.Data.Test, o.BatchSize);
        var notes = PaperEvaluation.AddTo(table, trainer, run.Data.Test, o.BatchSize, new PaperEvaluationOptions { Classifier = classifier, InceptionWeights = inceptionWeights, ElboEps = spec.ElboEps, Seed = seed, LpipsWeights = lpipsWeights });
        foreach (var note in notes.Where(n => n.Contains("skipped"))) log.WriteLine($"  {note}");
        double? validation = null, validationFid = null;
        if (fd is not null || fid is not null)
        {
            trainer.Vae.Eval();
            try
            {
                using var _ = GradMode.NoGrad();
                // A seed apart from the test samples', so selection and the reported FD-/FID-gen use different draws.
                var images = Validation(o, trainer.Side);
                if (fd is not null) validation = PaperEvaluation.FrechetOf(trainer, images, o.BatchSize, fd.Statistics, seed + 1_000_003).Samples;
                if (fid is not null) validationFid = PaperEvaluation.FrechetOf(trainer, images, o.BatchSize, fid.Statistics, seed + 1_000_003).Samples;
            }
            finally
            {
                trainer.Vae.Train();
            }
        }
        var result = new RunResult(method, beta, seed, run.Folder, trainer.Epoch, table.Rows.ToDictionary(r => r.Name, r => r.Value.Mean), validation, validationFid);
        result.Save();
        return result;
    }

    private static string Duration(double seconds) => TimeSpan.FromSeconds(Math.Round(seconds)).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);
}

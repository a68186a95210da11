using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using BlurVae.Training.Data;
using BlurVae.Training.Distributed;
using BlurVae.Training.Metrics;
using BlurVae.Training.Reports;
using Spectre.Console;

namespace BlurVae.Training.Train;

/// <summary>
/// A training run in a folder: data, trainer, the epoch loop with progress, and per epoch a line of metrics.jsonl,
/// the checkpoint (atomic), reconstructions.png, samples.png, kernels.png (Figure 2) and loss.png.
/// </summary>
public sealed class TrainingRun
{
    public const string MetricsFile = "metrics.jsonl";

    /// <summary>The options and image side of a saved run.</summary>
    public sealed record Loaded(TrainOptions Options, int Side);
    public const string KernelHistoryFile = "kernel-history.safetensors";

    private readonly TextWriter _log;
    private readonly DataParallel? _parallel;

    private TrainingRun(Trainer trainer, DatasetSplit data, string folder, TextWriter log, DataParallel? parallel)
    {
        Trainer = trainer;
        Data = data;
        Folder = folder;
        _log = log;
        _parallel = parallel;
        trainer.PrepareLoss();
        if (parallel is not null) trainer.Collectives = parallel.Attach(trainer.Backend, trainer.Networks, trainer.Options.BatchSize, log);
        trainer.Log = log.WriteLine;
    }

    /// <summary>Whether this process writes the run's files: always, except on the ranks other than 0 of a data-parallel run.</summary>
    private bool IsRoot => _parallel?.IsRoot ?? true;

    public Trainer Trainer { get; }
    public DatasetSplit Data { get; }
    public string Folder { get; }

    /// <summary>Loads the data a run's options name, padded to the run's side (<paramref name="side"/> &gt; 0 overrides
    /// --side), limited to --max-images and --max-test-images: <see cref="DatasetCatalog.OpenPadded"/>.</summary>
    public static (DatasetSplit Data, int Side) LoadData(TrainOptions options, int side = 0) =>
        DatasetCatalog.OpenPadded(options.Data, side > 0 ? side : options.Side, options.Seed, options.MaxImages, options.MaxTestImages);

    /// <summary>
    /// Starts a run, or resumes the one in options.Out, on this process or as one rank of <paramref name="parallel"/>.
    /// On resume, <paramref name="given"/> names the options the user set (kebab-case; null: those that differ from the
    /// defaults): changeable ones apply, others are refused (see <see cref="ResumeChanges"/>). Sizes are checked against
    /// memory before the model is built.
    /// </summary>
    public static TrainingRun Open(TrainOptions options, bool resume, TextWriter log, IEnumerable<string>? given = null, DataParallel? parallel = null)
    {
        string folder = Path.GetFullPath(options.Out);
        if (File.Exists(folder))
            throw new UserError($"--out '{folder}' is a file; --out names the run folder: choose a folder path (it is created if missing).");
        string checkpoint = Path.Combine(folder, TrainingCheckpoint.FileName);
        if (resume)
        {
            if (!File.Exists(checkpoint))
                throw new UserError($"--resume: there is no {TrainingCheckpoint.FileName} in '{folder}'; drop --resume to start a new run there, or point --out at an existing run.");
            var (saved, channels, side) = TrainingCheckpoint.ReadHeader(checkpoint);
            var (resumed, changes) = ResumeChanges.Apply(saved, options, given, folder);
            resumed.Validate();
            TrainingMemory.Check(resumed, channels, side);
            var (data, _) = LoadData(resumed, side);
            var trainer = new Trainer(resumed, channels, side, BackendSelection.Select(resumed.Device, resumed.Dtype, log, MathPrecisions.Parse(resumed.Precision), resumed.Verbose));
            TrainingCheckpoint.Load(trainer, checkpoint);
            bool root = parallel?.IsRoot ?? true;
            if (root) RemoveStaleTemporaries(folder, log);
            log.WriteLine($"Resuming '{folder}' after epoch {trainer.Epoch} of {resumed.Epochs}{(changes.Count > 0 ? " with " + string.Join(", ", changes) : "")}.");
            // The checkpoint is written first at an epoch end, so metrics lines beyond it come only from older versions.
            if (root)
            {
                var kept = ReadMetrics(folder).Where(m => m["epoch"]!.GetValue<int>() <= trainer.Epoch).Select(m => m.ToJsonString() + "\n");
                AtomicFile.WriteAllText(Path.Combine(folder, MetricsFile), string.Concat(kept));
                if (changes.Count > 0) AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), resumed.ToJson());
            }
            return new TrainingRun(trainer, data, folder, log, parallel) { _resumeChanges = changes };
        }
        if (File.Exists(checkpoint))
            throw new UserError($"--out '{folder}' already holds a run; pass --resume to continue it or choose another --out.");
        options.Validate();
        var backend = BackendSelection.Select(options.Device, options.Dtype, log, MathPrecisions.Parse(options.Precision), options.Verbose);
        var (split, s) = LoadData(options);
        TrainingMemory.Check(options, split.Train.Channels, s);
        var run = new TrainingRun(new Trainer(options, split.Train.Channels, s, backend), split, folder, log, parallel);
        if (!run.IsRoot) return run;
        CreateFolder(folder);
        RemoveStaleTemporaries(folder, log);
        AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), options.ToJson());
        File.Delete(Path.Combine(folder, MetricsFile));
        File.Delete(Path.Combine(folder, KernelHistoryFile));
        return run;
    }

    private static void CreateFolder(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, ".write-test-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"--out '{folder}' cannot be written ({e.Message}); choose a folder you can write to.", e);
        }
    }

    // A run killed while writing leaves its temporary file (up to a whole checkpoint) behind; nothing else writes here.
    private static void RemoveStaleTemporaries(string folder, TextWriter log)
    {
        var removed = AtomicFile.RemoveStaleTemporaries(folder);
        if (removed.Count > 0) log.WriteLine($"Removed {removed.Count} temporary file(s) of an interrupted run: {string.Join(", ", removed)}");
    }

    /// <summary>Options changed by --resume, recorded in the next metrics line.</summary>
    private IReadOnlyList<string> _resumeChanges = [];

    /// <summary>Trains until options.Epochs; returns the last epoch's test metrics.</summary>
    public MetricTable? Train()
    {
        var o = Trainer.Options;
        var train = Data.Train;
        _log.WriteLine($"Training {o.Arch} on {train} ({Data.Test.Count} test images), loss {o.Loss.ToString().ToLowerInvariant()}, " +
                       $"{Trainer.Vae.ParameterCount():N0} VAE + {Trainer.Generator.ParameterCount():N0} G_γ parameters, {Trainer.DType}, {CpuThreads()} threads.");
        // --grid-images beyond the test split would only repeat work (and, unclamped, once exhausted memory).
        int gridCount = Math.Min(o.GridImages, Data.Test.Count);
        var gridImages = Data.Test.GetBatch(Enumerable.Range(0, gridCount).ToArray(), Trainer.DType, Trainer.Backend);
        var kernelHistory = LoadKernelHistory();
        int batches = train.BatchCount(o.BatchSize, dropLast: true);
        if (batches == 0) throw new UserError($"--batch-size {o.BatchSize} is larger than the {train.Count} training images: no full batch; lower --batch-size or raise --max-images.");
        var progress = new RunProgress(o.Epochs, batches);
        MetricTable? last = null;
        for (int epoch = Trainer.Epoch; epoch < o.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double[] sums;
            int steps = 0;
            bool wiener = Trainer.WienerActiveAt(epoch);
            var noise = Trainer.NoiseFor(o.Seed, epoch);
            var collectives = Trainer.Collectives;
            collectives.TakeSeconds();
            string label = $"epoch {epoch + 1}/{o.Epochs}{(wiener ? " (wiener)" : o.Loss == LossKind.Wiener ? " (warm-up: L2)" : "")}";
            void RunBatches(Action? tick)
            {
                foreach (var (x, first) in DataParallel.Shards(train, o.BatchSize, collectives.Rank, collectives.WorldSize, o.Seed, epoch, Trainer.DType, Trainer.Backend))
                {
                    var stepClock = Stopwatch.StartNew();
                    // The noise of the global batch, drawn alike on every rank; each rank takes its shard's rows.
                    var eps = Tensor.Randn([o.BatchSize, o.Latent], noise, Trainer.DType, Trainer.Backend);
                    if (collectives.WorldSize > 1) eps = eps.Narrow(0, first, x.Shape[0]);
                    // The losses stay on the backend until the epoch's end: no host read inside a step.
                    Trainer.StepOnDevice(x, eps, epoch);
                    // The batch and its noise go back to the backend's cache now, not when a collection finds them:
                    // the next batch reuses their blocks, so steps allocate nothing and a CUDA graph capture finds
                    // every block it needs in the cache.
                    x.Release();
                    eps.Release();
                    steps++;
                    progress.StepDone(stepClock.Elapsed.TotalSeconds);
                    tick?.Invoke();
                }
            }
            if (Console.IsOutputRedirected || !ReferenceEquals(_log, Console.Out) || collectives.WorldSize > 1)
                RunBatches(null);
            else
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask(progress.Describe(label, epoch, 0, 0, 0), maxValue: batches);
                        // The live loss is a host read of the running sum: on a terminal only, at most once a second,
                        // so steps still never wait for the device (redirected runs and benchmarks never read).
                        var shown = Stopwatch.StartNew();
                        double loss = double.NaN;
                        RunBatches(() =>
                        {
                            task.Increment(1);
                            if (shown.Elapsed.TotalSeconds >= 1 || steps == 1 || steps == batches)
                            {
                                loss = Trainer.RunningLoss();
                                shown.Restart();
                            }
                            task.Description = progress.Describe(label, epoch, steps, loss, clock.Elapsed.TotalSeconds);
                        });
                    });
            // One read of the epoch's loss sums; a NaN or infinite one stops here, before the checkpoint is replaced.
            (sums, steps) = Trainer.TakeLossSums(epoch);
            double seconds = clock.Elapsed.TotalSeconds;
            double allReduceSeconds = collectives.TakeSeconds();
            // The mean over the ranks of their shard losses is the loss of the global batch.
            collectives.AllReduceSum(sums);
            for (int i = 0; i < sums.Length; i++) sums[i] /= collectives.WorldSize;
            var endClock = Stopwatch.StartNew();

            Trainer.Epoch = epoch + 1;
            _parallel?.SyncBuffers(Trainer.Networks);
            last = Evaluation.Run(Trainer, Data.Test, o.BatchSize, $"test metrics after epoch {epoch + 1}", collectives);
            if (!IsRoot) continue;
            // The checkpoint goes first (atomically): every file written after it describes an epoch it holds, so a
            // crash or a full disk from here on leaves pictures or metrics behind the checkpoint, never ahead of it.
            TrainingCheckpoint.Save(Trainer, Path.Combine(Folder, TrainingCheckpoint.FileName));
            AppendMetrics(epoch + 1, steps, sums, seconds, wiener, train.Count, last, allReduceSeconds);
            SavePictures(epoch, gridImages, kernelHistory);
            PlotLosses();
            progress.EpochEndDone(endClock.Elapsed.TotalSeconds);
            double? left = progress.RunSecondsLeft(epoch + 1, 0);
            string allReduce = collectives.WorldSize > 1 ? string.Create(CultureInfo.InvariantCulture, $", all-reduce {1000 * allReduceSeconds / steps:F1} ms/step") : "";
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label}: loss {sums[0] / steps:F2} (rec {sums[1] / steps:F2}, kl {sums[2] / steps:F2}), kernel fit {sums[3] / steps:F3}, " +
                $"test psnr {last["psnr"].Mean:F2} ssim {last["ssim"].Mean:F4} hf-ratio {last["hf_energy_ratio"].Mean:F3} kernel width {last["kernel_width"].Mean:F3}, " +
                $"{seconds:F1} s ({steps * o.BatchSize / seconds:F0} img/s{allReduce}){(epoch + 1 < o.Epochs && left is { } l ? $", run left ~{RunProgress.Clock(l)}" : "")}"));
        }
        return last;
    }

    /// <summary>reconstructions.png, samples.png and kernels.png (with this epoch's kernels added to the history).</summary>
    private void SavePictures(int epoch, Tensor gridImages, List<Tensor> kernelHistory)
    {
        var o = Trainer.Options;
        using (GradMode.NoGrad())
        {
            Trainer.Vae.Eval();
            Trainer.Generator.Eval();
            var (mu, _) = Trainer.Vae.Encode(gridImages);
            kernelHistory.Add(Trainer.Generator.Forward(mu));
            ImageGrid.Save(Path.Combine(Folder, "reconstructions.png"), [gridImages, Trainer.Vae.Decode(mu)], scale: 3, rowLabels: ["input", $"epoch {epoch + 1}"]);
            var z = Tensor.Randn([gridImages.Shape[0], o.Latent], new Random(o.Seed), Trainer.DType, Trainer.Backend);
            ImageGrid.SaveSamples(Path.Combine(Folder, "samples.png"), Trainer.Vae.Decode(z), columns: gridImages.Shape[0], scale: 3);
            Trainer.Vae.Train();
            Trainer.Generator.Train();
        }
        SaveKernelHistory(kernelHistory);
        var shown = BlurKernelGrid.SampleEpochs(kernelHistory.Count);
        BlurKernelGrid.Save(Path.Combine(Folder, "kernels.png"), shown.Select(e => kernelHistory[e - 1]).ToList(),
            shown.Select(e => $"epoch {e}").ToArray(), gridImages);
    }

    private static int CpuThreads() => Kernels.Cpu.CpuBackend.Threads;

    private void AppendMetrics(int epoch, int steps, double[] sums, double seconds, bool wiener, int trainImages, MetricTable test, double allReduceSeconds)
    {
        var line = new JsonObject
        {
            ["epoch"] = epoch,
            ["wiener_active"] = wiener,
            ["train_loss"] = sums[0] / steps,
            ["train_reconstruction"] = sums[1] / steps,
            ["train_kl"] = sums[2] / steps,
            ["train_kernel_fit"] = sums[3] / steps,
            ["seconds"] = seconds,
            ["images_per_second"] = steps * Trainer.Options.BatchSize / seconds,
            ["train_images"] = trainImages,
            ["ranks"] = Trainer.Collectives.WorldSize,
            ["all_reduce_seconds"] = allReduceSeconds,
        };
        if (_resumeChanges.Count > 0)
        {
            line["resumed_with"] = string.Join(", ", _resumeChanges);
            _resumeChanges = [];
        }
        foreach (var row in test.Rows)
        {
            line["test_" + row.Name] = row.Value.Mean;
            line["test_" + row.Name + "_std"] = row.Value.Std;
        }
        File.AppendAllText(Path.Combine(Folder, MetricsFile), line.ToJsonString() + "\n");
    }

    /// <summary>Reads metrics.jsonl back (every completed epoch of this run, also across resumes).</summary>
    public static List<JsonObject> ReadMetrics(string folder)
    {
        string path = Path.Combine(folder, MetricsFile);
        if (!File.Exists(path)) return [];
        return File.ReadAllLines(path).Where(l => l.Length > 0)
            .Select((l, i) => JsonNode.Parse(l) as JsonObject ?? throw new InvalidDataException($"{path}: line {i + 1} is not a JSON object."))
            .ToList();
    }

    /// <summary>
    /// loss.png: a log-scale y axis while every value is positive; with the log-determinant (--eps) the loss can be
    /// negative, and then the axis is linear. A dashed line marks where the warm-up ends and the Wiener term starts.
    /// </summary>
    private void PlotLosses()
    {
        var rows = ReadMetrics(Folder);
        IReadOnlyList<(double, double)> Series(string key) =>
            rows.Select(r => ((double)r["epoch"]!.GetValue<int>(), r[key]!.GetValue<double>())).ToList();
        var series = new Dictionary<string, IReadOnlyList<(double X, double Y)>>
        {
            ["train reconstruction"] = Series("train_reconstruction"),
            ["train KL"] = Series("train_kl"),
            ["kernel fit"] = Series("train_kernel_fit"),
            ["test L2"] = Series("test_l2"),
        };
        var o = Trainer.Options;
        PlotMarker[] markers = o.Loss == LossKind.Wiener && o.WarmupEpochs > 0 && o.WarmupEpochs < o.Epochs
            ? [new PlotMarker(o.WarmupEpochs + 0.5, $"Wiener term from epoch {o.WarmupEpochs + 1}")]
            : [];
        bool positive = series.Values.All(points => points.All(p => p.Y > 0));
        LossPlot.Save(Path.Combine(Folder, "loss.png"), series, title: "BlurVae training", xLabel: "epoch", yLabel: "loss per image",
            logY: positive, markers: markers);
    }

    private List<Tensor> LoadKernelHistory()
    {
        string path = Path.Combine(Folder, KernelHistoryFile);
        var history = new List<Tensor>();
        if (!File.Exists(path)) return history;
        var (tensors, _) = SafeTensors.Read(path);
        for (int e = 1; e <= Trainer.Epoch && tensors.TryGetValue($"epoch.{e}", out var entry); e++)
            history.Add(Tensor.FromArray(entry.Values, entry.Shape, Trainer.DType, Trainer.Backend));
        return history;
    }

    private void SaveKernelHistory(List<Tensor> history) =>
        SafeTensors.Write(Path.Combine(Folder, KernelHistoryFile), history.Select((k, i) => ($"epoch.{i + 1}", k)));
}

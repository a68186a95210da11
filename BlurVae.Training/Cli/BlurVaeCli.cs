using System.CommandLine;
using BlurVae.Training.Train;

namespace BlurVae.Training.Cli;

/// <summary>`blurvae train | eval | sample | reconstruct | bench | profile | selftest`.</summary>
public static class BlurVaeCli
{
    /// <summary>Shows the stack trace of a user error too (internal errors always show it).</summary>
    /// <summary>The flag that adds the stack trace to a user error; every command has it (train's also prints the GPU's convolution choices).</summary>
    public const string VerboseFlag = "--verbose";

    /// <summary>
    /// Parses and runs a command line: the one place that maps failures to exit codes (see <see cref="CliErrors"/>):
    /// a command line that does not parse is a usage error (2); exceptions from a command become 1 or 70.
    /// </summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        error ??= Console.Error;
        var parsed = Build().Parse(args);
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (output is not null) config.Output = output;
        config.Error = error;
        try
        {
            int code = parsed.Invoke(config);
            return parsed.Errors.Count > 0 ? CliErrors.ExitUsageError : code;
        }
        catch (Exception e)
        {
            bool verbose = parsed.CommandResult.Command.Options.OfType<Option<bool>>().Any(o => o.Name == VerboseFlag && parsed.GetValue(o));
            return CliErrors.Report(e, error, verbose);
        }
    }

    /// <summary>A verb on a finished run (eval, sample, reconstruct): its options and its action, which returns the exit code.</summary>
    private static Command RunCommand(string name, string description, Option[] options, Func<ParseResult, int> action)
    {
        var command = new Command(name, description);
        foreach (var o in options) command.Options.Add(o);
        command.SetAction(r => Guard(() => action(r)));
        return command;
    }

    public static RootCommand Build()
    {
        var root = new RootCommand("BlurVae: VAEs trained with the blur-minimising Wiener reconstruction term (Explicitly minimizing the blur error of VAEs, ICLR 2023).");

        var flags = new TrainFlags();
        var train = new Command("train", "Train a VAE (and its kernel generator G_γ) and write checkpoint, metrics.jsonl, grids and plots into --out.");
        foreach (var o in flags.All()) train.Options.Add(o);
        train.SetAction(r => Guard(() => RunCommands.Train(flags.Bind(r), r.GetValue(flags.Resume), flags.BindDistributed(r), r.GetValue(flags.Threads), Console.Out, flags.GivenNames(r))));
        root.Subcommands.Add(train);

        var runOption = new Option<DirectoryInfo>("--run") { Description = "Run folder written by train", DefaultValueFactory = _ => new DirectoryInfo(new TrainOptions().Out) };
        var dataOption = new Option<string?>("--data") { Description = "Dataset to evaluate on (default: the run's own test split)" };
        var countOption = new Option<int>("--count") { Description = "Number of images", DefaultValueFactory = _ => 64 };
        var outOption = new Option<FileInfo?>("--out") { Description = "Picture to write: .png, or .jpg/.jpeg for JPEG (default: a PNG inside the run folder)" };
        var seedOption = new Option<int>("--seed") { Description = "Seed of the prior samples", DefaultValueFactory = _ => 1 };

        var classifierOption = new Option<string?>("--classifier") { Description = "Fashion-MNIST classifier weights for FD-FMNIST (default: the shipped fmnist-classifier.safetensors; see train-classifier)" };
        var inceptionOption = new Option<string?>("--inception-weights") { Description = "pytorch-fid's Inception-v3 weights for FID of reconstructions and samples (written by `python3 tools/export-weights.py fid-inception FILE`; without it no FID)" };
        var elboEpsOption = new Option<double>("--elbo-eps") { Description = "ε of K + εI in the log-determinant of our likelihood's negative ELBO (the paper's Table 6: 0.5)", DefaultValueFactory = _ => new PaperEvaluationOptions().ElboEps };
        var lpipsOption = new Option<string?>("--lpips-weights") { Description = "LPIPS weights (safetensors from `python3 tools/export-weights.py lpips-alex FILE`, or lpips-vgg): adds lpips-alex or lpips-vgg of reconstructions; without it LPIPS is skipped with a note" };
        root.Subcommands.Add(RunCommand("eval", "Print every metric on the test split: PSNR, SSIM, high-frequency energy ratio, kernel width, losses, FD-FMNIST of reconstructions and samples (grey 32×32 runs), FID of both with --inception-weights, the negative ELBO in nats and bits/dim under Σ = I and under ours at --elbo-eps, and LPIPS with --lpips-weights; also written to eval.md in the run folder.",
            [runOption, dataOption, classifierOption, inceptionOption, lpipsOption, elboEpsOption, seedOption],
            r => RunCommands.Eval(r.GetValue(runOption)!, r.GetValue(dataOption),
                new PaperEvaluationOptions { Classifier = r.GetValue(classifierOption), InceptionWeights = r.GetValue(inceptionOption), ElboEps = r.GetValue(elboEpsOption), Seed = r.GetValue(seedOption), LpipsWeights = r.GetValue(lpipsOption) }, Console.Out)));
        root.Subcommands.Add(RunCommand("sample", "Decode random draws from the prior N(0, I) into a PNG grid.",
            [runOption, countOption, outOption, seedOption],
            r => RunCommands.Sample(r.GetValue(runOption)!, r.GetValue(countOption), r.GetValue(outOption), r.GetValue(seedOption), Console.Out)));
        root.Subcommands.Add(RunCommand("reconstruct", "Write test images above their reconstructions (bands of up to 16 columns) and their predicted kernels into PNG grids.",
            [runOption, dataOption, countOption, outOption],
            r => RunCommands.Reconstruct(r.GetValue(runOption)!, r.GetValue(dataOption), r.GetValue(countOption), r.GetValue(outOption), Console.Out)));

        root.Subcommands.Add(BenchCommand.Create(Guard));
        root.Subcommands.Add(ProfileCommand.Create(Guard));
        root.Subcommands.Add(ClassifierCommand.Create(Guard));
        root.Subcommands.Add(ExperimentCommand.Create(Guard));
        root.Subcommands.Add(SelfTestCommand.Create());
        var verbose = new Option<bool>(VerboseFlag) { Description = "Show the stack trace of an error" };
        foreach (var command in root.Subcommands)
            if (!command.Options.Any(o => o.Name == VerboseFlag)) command.Options.Add(verbose);
        return root;
    }

    /// <summary>
    /// Wraps a command's action. Failures are not caught here but in <see cref="Run"/>, once for every command, so the
    /// exit codes and messages are the same everywhere; commands keep calling Guard so that they read alike.
    /// </summary>
    private static int Guard(Func<int> action) => action();
}

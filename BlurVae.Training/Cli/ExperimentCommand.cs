using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using BlurVae.Training.Experiments;

namespace BlurVae.Training.Cli;

/// <summary>`blurvae experiment SPEC`: a grid of methods × β × seeds (BlurVae.Training/Experiments).</summary>
internal static class ExperimentCommand
{
    public static Command Create(Func<Func<int>, int> guard)
    {
        var specArgument = new Argument<FileInfo>("SPEC") { Description = "Experiment spec (JSON), e.g. experiments/fashion-mnist.json" };
        var output = new Option<string?>("--out") { Description = "Experiment folder (default: runs/experiments/NAME); runs go under runs/, tables and report.html at the top" };
        var data = new Option<string?>("--data") { Description = "Dataset for every run (required when the spec's \"data\" is null, e.g. the CelebA folder)" };
        var set = new Option<string[]>("--set") { Description = "Override a train option of every run: --set epochs=1 --set max-images=64 (values in JSON: numbers, strings, [lists])", AllowMultipleArgumentsPerToken = false };
        var classifier = new Option<string?>("--classifier") { Description = "Fashion-MNIST classifier weights for FD-FMNIST (default: the shipped ones)" };
        var threads = new Option<int>("--threads") { Description = "CPU threads of this process (0 = every core); runs are trained one after another", DefaultValueFactory = _ => 0 };
        var command = new Command("experiment", "Train and evaluate a grid of methods × β × seeds from a JSON spec (resumable: run it again to continue), select β per method by the lowest validation FD-FMNIST of samples, and write results.md, results.csv and report.html.");
        command.Arguments.Add(specArgument);
        foreach (var o in new Option[] { output, data, set, classifier, threads }) command.Options.Add(o);
        command.SetAction(r => guard(() =>
        {
            int n = r.GetValue(threads);
            if (n < 0) throw new ArgumentException($"--threads must be ≥ 0 (0 = every core; got {n}).");
            if (n > 0) Kernels.Cpu.CpuBackend.Threads = n;
            var file = r.GetValue(specArgument)!;
            var spec = ExperimentSpec.Load(file.FullName).WithOverrides(r.GetValue(data), ParseSets(r.GetValue(set) ?? []));
            string folder = r.GetValue(output) ?? Path.Combine("runs", "experiments", spec.Name);
            new ExperimentRunner(spec, folder, Console.Out, r.GetValue(classifier)).Run();
            return 0;
        }));
        return command;
    }

    internal static Dictionary<string, JsonNode?> ParseSets(IEnumerable<string> sets)
    {
        var result = new Dictionary<string, JsonNode?>();
        foreach (var s in sets)
        {
            int eq = s.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--set '{s}': expected key=value, e.g. --set epochs=1.");
            string key = s[..eq].Trim(), value = s[(eq + 1)..].Trim();
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(value);
            }
            catch (JsonException)
            {
                node = JsonValue.Create(value); // a bare word such as l2 or auto is a string
            }
            result[key] = node;
        }
        return result;
    }
}

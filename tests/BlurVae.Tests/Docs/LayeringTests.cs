using System.Reflection;
using System.Text.RegularExpressions;

namespace BlurVae.Tests.Docs;

/// <summary>
/// The layering of docs/architecture.md, checked on the source: the engine (BlurVae.Training/Engine) uses nothing of
/// the application beside it; the checkpoint format (BlurVae.Training/Checkpoints) uses nothing of the run
/// (BlurVae.Training/Train), which builds the checkpoint's parts: the run depends on the format, never the other way;
/// the classifier (FD-FMNIST's features) and the data-parallel transport sit below the run, which uses them; and no
/// two application folders use each other, directly or round a longer loop.
/// A file "uses" a namespace when its code (comments and strings left out) names a type declared only there;
/// BlurVae.Kernels and BlurVae.Native need no test, as their projects do not reference BlurVae.Training.
/// </summary>
[TestFixture]
public class LayeringTests
{
    private const string Training = "BlurVae.Training";

    /// <summary>(layer, the namespaces it may use besides its own and BlurVae.Kernels/BlurVae.Native).</summary>
    private static readonly (string Layer, string[] Allowed)[] Rules =
    [
        ("BlurVae.Training.Engine", ["BlurVae.Training.Engine"]),
        ("BlurVae.Training.Checkpoints", ["BlurVae.Training.Engine", "BlurVae.Training.Io", "BlurVae.Training.Errors"]),
        ("BlurVae.Training.Classifier", ["BlurVae.Training.Engine", "BlurVae.Training.Data", "BlurVae.Training.Io", "BlurVae.Training.Errors"]),
        ("BlurVae.Training.Distributed", ["BlurVae.Training.Engine", "BlurVae.Training.Data", "BlurVae.Training.Errors"]),
    ];

    public static IEnumerable<string> Layers => Rules.Select(r => r.Layer);

    [TestCaseSource(nameof(Layers))]
    public void LayerUsesOnlyWhatItMay(string layer)
    {
        var allowed = Rules.Single(r => r.Layer == layer).Allowed.Append(layer).ToArray();
        var violations = UsesOf(layer).Where(u => !allowed.Any(a => InNamespace(u.Namespace, a)))
            .Select(u => $"{u.File}: {u.Type} ({u.Namespace})").Distinct().ToList();
        Assert.That(violations, Is.Empty, $"{layer} uses what it may not:\n" + string.Join("\n", violations));
    }

    [Test]
    public void TheRunDependsOnTheCheckpointFormat()
    {
        // The scan sees a real use (the run builds the checkpoint's parts), so its silence above means something.
        Assert.That(UsesOf("BlurVae.Training.Train").Any(u => u.Namespace == "BlurVae.Training.Checkpoints"), Is.True);
        Assert.That(UsesOf("BlurVae.Training.Checkpoints").Any(u => u.Namespace == "BlurVae.Training.Engine.Optim"), Is.True);
    }

    [Test]
    public void NoApplicationFoldersUseEachOther()
    {
        // Folder → the folders it uses (the engine is one folder: its inner namespaces are its own business).
        var uses = new Dictionary<string, Dictionary<string, Use>>();
        foreach (var (from, use) in AllUses.Value)
        {
            string a = FolderOf(from), b = FolderOf(use.Namespace);
            if (a == "" || b == "" || a == b) continue;
            if (!uses.TryGetValue(a, out var targets)) uses[a] = targets = [];
            targets.TryAdd(b, use);
        }
        Assert.That(uses.Count, Is.GreaterThan(5), "the scan sees the folders' uses");
        // Depth-first search; a folder met again while still on the path closes a loop.
        var done = new HashSet<string>();
        var path = new List<string>();
        List<string>? Loop(string folder)
        {
            int at = path.IndexOf(folder);
            if (at >= 0) return path[at..].Append(folder).ToList();
            if (!done.Add(folder)) return null;
            path.Add(folder);
            foreach (var next in uses.GetValueOrDefault(folder, []).Keys.Order(StringComparer.Ordinal))
                if (Loop(next) is { } loop) return loop;
            path.RemoveAt(path.Count - 1);
            return null;
        }
        foreach (var folder in uses.Keys.Order(StringComparer.Ordinal))
        {
            if (Loop(folder) is not { } loop) continue;
            var why = loop.Zip(loop.Skip(1), (a, b) => $"{a} → {b}: {uses[a][b].File} names {uses[a][b].Type}");
            Assert.Fail("application folders use each other round a loop; move what both need to the lower one:\n" + string.Join("\n", why));
        }
    }

    /// <summary>The application folder of a BlurVae.Training namespace (BlurVae.Training.Train.X → "Train"; the engine is "Engine"), or "".</summary>
    private static string FolderOf(string ns) =>
        ns.StartsWith(Training + ".", StringComparison.Ordinal) ? ns[(Training.Length + 1)..].Split('.')[0] : "";

    private readonly record struct Use(string File, string Type, string Namespace);

    private static bool InNamespace(string ns, string prefix) => ns == prefix || ns.StartsWith(prefix + ".", StringComparison.Ordinal);

    /// <summary>Simple name → namespace of the top-level types BlurVae.Training declares in exactly one namespace (nested
    /// types are named through their outer type).</summary>
    private static readonly Lazy<Dictionary<string, string>> DeclaredTypes = new(() =>
        typeof(TrainOptions).Assembly.GetTypes()
            .Where(t => t.Namespace is not null && !t.IsNested && !t.Name.Contains('<') && t.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null)
            .GroupBy(t => t.Name.Split('`')[0])
            .Where(g => g.Select(t => t.Namespace).Distinct().Count() == 1)
            .ToDictionary(g => g.Key, g => g.First().Namespace!));

    private static readonly Regex NamespaceLine = new(@"^namespace ([\w.]+)", RegexOptions.Multiline);
    private static readonly Regex Identifier = new(@"\b[A-Z]\w*\b");
    // Comments, then string and character literals (verbatim, interpolated and plain), are not code.
    private static readonly Regex NotCode = new(@"//[^\n]*|/\*.*?\*/|@""(?:[^""]|"""")*""|\$?""(?:[^""\\\n]|\\.)*""|'(?:[^'\\\n]|\\.)'", RegexOptions.Singleline);

    /// <summary>Every type of another BlurVae.Training namespace that the code of <paramref name="layer"/>'s files names.</summary>
    private static List<Use> UsesOf(string layer) =>
        AllUses.Value.Where(u => InNamespace(u.From, layer) && !InNamespace(u.Use.Namespace, layer)).Select(u => u.Use).ToList();

    /// <summary>Every type each BlurVae.Training file names (with the file's namespace), read once for all the tests.</summary>
    private static readonly Lazy<List<(string From, Use Use)>> AllUses = new(() =>
    {
        var root = Path.Combine(Repository.Root(), Training);
        var uses = new List<(string, Use)>();
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")).ToList();
        Assert.That(files, Is.Not.Empty, $"no source files under {root}");
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            var ns = NamespaceLine.Match(text) is { Success: true } m ? m.Groups[1].Value : "";
            var code = NotCode.Replace(text, " ");
            foreach (Match id in Identifier.Matches(code))
            {
                if (DeclaredTypes.Value.TryGetValue(id.Value, out var declaredIn) && !InNamespace(declaredIn, ns))
                    uses.Add((ns, new Use(Path.GetRelativePath(Repository.Root(), file), id.Value, declaredIn)));
            }
        }
        return uses;
    });
}

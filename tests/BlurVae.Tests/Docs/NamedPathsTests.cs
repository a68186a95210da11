using System.Text.RegularExpressions;

namespace BlurVae.Tests.Docs;

/// <summary>
/// Every source path that a comment, a README or a doc names must exist, so pointers cannot go stale after a move
/// (kernels/*.cuh once pointed at Emulated/EmulatedDevice.&lt;Family&gt;.cs long after it moved).
/// </summary>
[TestFixture]
public class NamedPathsTests
{
    // A path-like token ending in a source extension: "Device/GpuDevice.Conv.cs", "kernels/conv.cuh", "docs/method.md".
    private static readonly Regex PathToken = new(@"(?<![\w./$~<>*-])((?:[\w.-]+/)*[\w.-]+\.(?:cs|cuh|cu|h|py|ps1|md|csproj|props|targets|sh))(?![\w/])", RegexOptions.Compiled);

    private static readonly string[] Scanned = [".cs", ".cuh", ".cu", ".h", ".py", ".ps1", ".md"];

    [Test]
    public void EveryNamedSourcePathExists()
    {
        var root = Repository.Root();
        var files = TrackedFiles(root);
        var missing = new List<string>();
        foreach (var file in files.Where(f => Scanned.Contains(Path.GetExtension(f))))
        {
            var lines = File.ReadAllLines(Path.Combine(root, file));
            for (int i = 0; i < lines.Length; i++)
            {
                // In code files only comments are read: string literals name files the program writes.
                var text = Path.GetExtension(file) is ".md" ? lines[i] : CommentOf(lines[i], file);
                if (text is null) continue;
                foreach (Match m in PathToken.Matches(text))
                {
                    var named = m.Groups[1].Value.TrimStart('.', '/');
                    // A bare .md or .h name is an output the program writes (eval.md) or a system header (cuda.h).
                    if (!named.Contains('/') && Path.GetExtension(named) is ".md" or ".h") continue;
                    if (!Exists(named, file, files)) missing.Add($"{file}:{i + 1}: {named}");
                }
            }
        }
        Assert.That(missing, Is.Empty, "Paths named in comments or docs that do not exist:\n" + string.Join("\n", missing));
    }

    /// <summary>A name exists when some tracked file ends with it (paths are often given relative to a project), or
    /// it is relative to the naming file's folder.</summary>
    private static bool Exists(string named, string namingFile, IReadOnlyList<string> files)
    {
        var local = Path.GetFullPath(Path.Combine("/", Path.GetDirectoryName(namingFile) ?? "", named)).TrimStart('/');
        return files.Any(f => f == named || f.EndsWith("/" + named, StringComparison.Ordinal) || f == local);
    }

    private static string? CommentOf(string line, string file)
    {
        var marker = Path.GetExtension(file) is ".py" or ".ps1" ? "#" : "//";
        var at = line.IndexOf(marker, StringComparison.Ordinal);
        if (at >= 0) return line[at..];
        var trimmed = line.TrimStart();
        return trimmed.StartsWith('*') ? trimmed : null; // inside a /* … */ block
    }

    private static IReadOnlyList<string> TrackedFiles(string root)
    {
        var info = new System.Diagnostics.ProcessStartInfo("git", "ls-files --cached --others --exclude-standard")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var git = System.Diagnostics.Process.Start(info)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.That(git.ExitCode, Is.Zero, "git ls-files failed: the test needs a git checkout.");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(f => File.Exists(Path.Combine(root, f))).ToList();
    }
}

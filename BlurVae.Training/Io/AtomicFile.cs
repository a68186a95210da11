namespace BlurVae.Training.Io;

/// <summary>
/// Whole-file writes that never leave a half-written file behind: the content goes to a temporary file in the
/// target's own directory (same file system, so the rename is atomic), which then replaces the target with
/// File.Move(overwrite: true). Missing directories are created.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = CheckPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N") + TempSuffix);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private const string TempSuffix = ".tmp";

    /// <summary>
    /// Deletes the temporary files a killed process left in <paramref name="directory"/> (".NAME.&lt;32 hex&gt;.tmp",
    /// which only <see cref="Write"/> creates) and returns their names. Call it only where no other process writes.
    /// </summary>
    public static IReadOnlyList<string> RemoveStaleTemporaries(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        var removed = new List<string>();
        foreach (var file in Directory.EnumerateFiles(directory, ".*" + TempSuffix))
        {
            string name = Path.GetFileName(file);
            string stem = name[..^TempSuffix.Length];
            int dot = stem.LastIndexOf('.');
            if (dot < 1 || stem.Length - dot - 1 != 32 || !Guid.TryParseExact(stem[(dot + 1)..], "N", out _)) continue;
            File.Delete(file);
            removed.Add(name);
        }
        return removed;
    }

    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Write(path, s => s.Write(bytes));
    }

    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });
    }

    /// <summary>The absolute path, after checking it names a file (not blank, not an existing directory).</summary>
    internal static string CheckPath(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("The output path must not be blank.", nameof(path));
        string full = Path.GetFullPath(path);
        if (string.IsNullOrEmpty(Path.GetFileName(full)) || Directory.Exists(full))
            throw new ArgumentException($"The output path '{path}' names a directory, not a file.", nameof(path));
        return full;
    }

    private static void TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (IOException)
        {
            // The original error matters more than a leftover temp file.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

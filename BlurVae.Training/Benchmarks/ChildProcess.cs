using System.Diagnostics;
using System.ComponentModel;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// Runs a program to completion with its output captured and a time limit, killing it (and its children) when the
/// limit passes: the one way this project starts Python (TorchPython's probe, bench.py, the cross-check scripts).
/// </summary>
public static class ChildProcess
{
    /// <summary>What a run gave: <see cref="StartError"/> when it could not start, else <see cref="TimedOut"/> or its exit code and output.</summary>
    public sealed record Result(string? StartError, bool TimedOut, int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>The last non-empty line of standard error, for a one-line reason.</summary>
        public string LastErrorLine => Stderr.Trim().Split('\n').LastOrDefault()?.Trim() ?? "";
    }

    public static Result Run(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        Process? process;
        try
        {
            process = Process.Start(info);
        }
        catch (Win32Exception e)
        {
            return new Result(e.Message, false, -1, "", "");
        }
        if (process is null) return new Result($"could not start {file}", false, -1, "", "");
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new Result(null, true, -1, stdout.Result, stderr.Result);
            }
            process.WaitForExit();
            return new Result(null, false, process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}

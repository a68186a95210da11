namespace BlurVae.Tests.Distributed;

/// <summary>
/// Runs the built `blurvae` CLI as an MPI job (mpirun -np N --oversubscribe) or as one plain process, with the
/// settings Open MPI needs in CI's containers: running as root allowed, shared memory without CMA single-copy
/// (often blocked there), no network transport.
/// </summary>
internal static class MpiLauncher
{
    /// <summary>The tiny run every distributed test trains: 16 images of 32×32, 2 steps per epoch, a few thousand parameters.</summary>
    public static readonly string[] TinyRun =
    [
        "--data", "embedded", "--max-images", "16", "--max-test-images", "8", "--channels", "4", "--latent", "4", "--mlp-hidden", "8",
        "--kernel-size", "3", "--batch-size", "8", "--warmup-epochs", "1", "--grid-images", "2", "--device", "cpu", "--threads", "1",
        "--lr", "1e-5", "--lr-kernel", "1e-5",
    ];

    /// <summary>mpirun on PATH, or the test stops: ignored outside CI, failed in CI (CI=true), where .ci/run installs Open MPI.</summary>
    public static string RequireMpirun()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);
        if (found is not null) return found;
        const string reason = "mpirun is not installed; on Debian `apt-get install openmpi-bin libopenmpi3` (.ci/run does this as root).";
        TestContext.Out.WriteLine(reason);
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
        Assert.Ignore(reason);
        return "";
    }

    public static string Cli => Path.Combine(TestContext.CurrentContext.TestDirectory, "blurvae");

    /// <summary>The process for `blurvae args` (ranks > 0: under mpirun -np ranks, with --distributed added by the caller).</summary>
    public static ProcessStartInfo StartInfo(int ranks, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ranks > 0)
        {
            info.FileName = RequireMpirun();
            foreach (var a in new[] { "-np", ranks.ToString(), "--oversubscribe", "--allow-run-as-root", "--mca", "btl", "self,vader",
                                      "--mca", "btl_vader_single_copy_mechanism", "none", Cli })
                info.ArgumentList.Add(a);
        }
        else info.FileName = Cli;
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        return info;
    }

    /// <summary>Runs to the end (or kills it after the limit) and returns the exit code and both streams.</summary>
    public static (int Code, string Out, string Err) Run(int ranks, IEnumerable<string> args, int limitSeconds = 120)
    {
        using var p = Process.Start(StartInfo(ranks, args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limitSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"blurvae {string.Join(' ', args)} on {ranks} ranks did not end within {limitSeconds} s.\n{stdout.Result}\n{stderr.Result}");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and requires exit code 0, printing the output on failure.</summary>
    public static string Succeed(int ranks, params string[] args)
    {
        var (code, output, error) = Run(ranks, args);
        TestContext.Out.WriteLine(output);
        Assert.That(code, Is.EqualTo(0), $"exit code {code}\n{output}\n{error}");
        return output;
    }

    public static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }
}

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// libtorch's side: bench/BlurVae.LibTorchBench (bench.py ported to TorchSharp 0.107, i.e. libtorch 2.10 on the CPU),
/// run with `dotnet`. It is built on demand by tools/libtorch-bench.sh (TorchSharp-cpu restores ~600 MB, so neither
/// BlurVae.sln nor CI builds it); when it is not built, `blurvae bench --against libtorch` stops with exit code 1.
/// </summary>
public sealed class LibTorchRunner(string dll) : ReferenceEngine
{
    public const string RelativeDll = "bench/BlurVae.LibTorchBench/bin/Release/net10.0/BlurVae.LibTorchBench.dll";
    public const string SetupScript = "tools/libtorch-bench.sh";

    public string Dll { get; } = dll;

    public override string Engine => "libtorch";
    public override string? Missing => null;
    protected override string ProgramName => "BlurVae.LibTorchBench";
    /// <summary>`dotnet PATH` for the dll; anything else (the build's apphost BlurVae.LibTorchBench, a stand-in) runs itself.</summary>
    protected override (string File, IReadOnlyList<string> Leading) Invocation =>
        Dll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? ("dotnet", [Dll]) : (Dll, []);

    /// <summary>The built benchmark at the explicit --libtorch-bench path, else <see cref="RelativeDll"/> in the repository.</summary>
    public static LibTorchRunner Find(string? explicitPath)
    {
        string? dll;
        string searched;
        if (explicitPath is not null)
        {
            searched = explicitPath;
            dll = File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : null;
        }
        else
        {
            dll = FindInRepository(RelativeDll, out searched);
        }
        return dll is not null ? new LibTorchRunner(dll) : throw new ArgumentException(NotBuilt(searched));
    }

    /// <summary>The message for a missing build: where it looked and the script that builds it.</summary>
    public static string NotBuilt(string searched) =>
        $"--against libtorch: the libtorch benchmark is not built (looked at {searched}). Run {SetupScript} " +
        "(it builds bench/BlurVae.LibTorchBench and prepares libtorch 2.10's native libraries), or pass its dll with --libtorch-bench PATH.";

}

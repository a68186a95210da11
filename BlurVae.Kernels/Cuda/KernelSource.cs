using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace BlurVae.Kernels.Cuda;

/// <summary>
/// The CUDA source embedded in this assembly: kernels.cu and its device headers, under the names kernels.cu's
/// <c>#include "kernels/…"</c> lines use, so NVRTC compiles it from memory with no files on disk.
/// </summary>
public sealed class KernelSource
{
    /// <summary>The translation unit's name, also the name NVRTC reports errors under.</summary>
    public const string MainName = "kernels.cu";

    private const string HeaderPrefix = "kernels/";

    private static readonly Lazy<KernelSource> EmbeddedSource = new(Load);

    private KernelSource(string main, IReadOnlyList<(string Name, string Source)> headers)
    {
        Main = main;
        Headers = headers;
        Sha256 = Hash(main, headers);
    }

    /// <summary>The source embedded in BlurVae.Kernels.</summary>
    public static KernelSource Embedded => EmbeddedSource.Value;

    /// <summary>The text of kernels.cu.</summary>
    public string Main { get; }

    /// <summary>The device headers, named as included ("kernels/conv.cuh"), in ordinal order of name.</summary>
    public IReadOnlyList<(string Name, string Source)> Headers { get; }

    /// <summary>Lower-case hex SHA-256 over kernels.cu and every header (name and text), in a fixed order.</summary>
    public string Sha256 { get; }

    private static KernelSource Load()
    {
        var assembly = typeof(KernelSource).Assembly;
        var names = assembly.GetManifestResourceNames();
        if (!names.Contains(MainName))
            throw new InvalidOperationException($"{assembly.GetName().Name} has no embedded resource '{MainName}'; check the EmbeddedResource items of BlurVae.Kernels.csproj.");
        var headers = names
            .Where(n => n.StartsWith(HeaderPrefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => (n, Read(assembly, n)))
            .ToArray();
        return new KernelSource(Read(assembly, MainName), headers);
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource '{name}' cannot be opened.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    // Each file contributes its name and its length-prefixed text, so moving text between files changes the hash.
    private static string Hash(string main, IReadOnlyList<(string Name, string Source)> headers)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string name, string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            sha.AppendData([0]);
            sha.AppendData(BitConverter.GetBytes((long)bytes.Length));
            sha.AppendData(bytes);
        }
        Add(MainName, main);
        foreach (var (name, text) in headers) Add(name, text);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

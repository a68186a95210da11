using System.Text.RegularExpressions;
using BlurVae.Kernels.Cuda;

namespace BlurVae.Kernels.Device;

/// <summary>
/// The parameter lists of the kernels, read once from the embedded kernels.cu and its headers (the source NVRTC
/// compiles), for the one launch-time rule no compiler can check: a buffer passed as a <c>__restrict__</c> pointer
/// must not also be passed as another pointer of the same launch when either is written. NVRTC may cache reads of a
/// <c>const __restrict__</c> input in registers or the read-only cache, so an in-place call gives wrong results on a
/// GPU that the emulation (compiled by g++, which optimises differently) would not show.
/// </summary>
public static partial class KernelSignatures
{
    /// <summary>One kernel parameter: its name, whether it is a pointer, declared __restrict__, and const (read-only).</summary>
    public readonly record struct Parameter(string Name, bool IsPointer, bool IsRestrict, bool IsConst);

    private static readonly Lazy<IReadOnlyDictionary<string, Parameter[]>> All = new(() => Parse(Sources()));

    [GeneratedRegex("""extern\s+"C"\s+__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s+)?void\s+(?:__launch_bounds__\s*\([^)]*\)\s+)?(\w+)\s*\(([^)]*)\)""")]
    private static partial Regex KernelDeclaration();

    private static IEnumerable<string> Sources()
    {
        var source = KernelSource.Embedded;
        yield return source.Main;
        foreach (var (_, text) in source.Headers) yield return text;
    }

    /// <summary>Every kernel's parameters, by kernel name, from the given source texts.</summary>
    public static IReadOnlyDictionary<string, Parameter[]> Parse(IEnumerable<string> sources)
    {
        var kernels = new Dictionary<string, Parameter[]>(StringComparer.Ordinal);
        foreach (var text in sources)
            foreach (Match m in KernelDeclaration().Matches(text))
                kernels[m.Groups[1].Value] = m.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(ParseParameter).ToArray();
        return kernels;
    }

    private static Parameter ParseParameter(string declaration)
    {
        string name = declaration.Split([' ', '*', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)[^1];
        return new Parameter(name, declaration.Contains('*'), declaration.Contains("__restrict__"), declaration.TrimStart().StartsWith("const ", StringComparison.Ordinal));
    }

    /// <summary>The parameters of <paramref name="kernel"/>, or null for a kernel the embedded source does not declare (the emulation's self-test kernels).</summary>
    public static Parameter[]? Of(string kernel) => All.Value.GetValueOrDefault(kernel);

    /// <summary>
    /// Throws when two pointer arguments of a launch are the same non-null address, one of them is declared
    /// <c>__restrict__</c>, and at least one of them is written (not const): the in-place call the kernel's
    /// declaration forbids.
    /// </summary>
    public static void CheckNoRestrictAlias(string kernel, ReadOnlySpan<ulong> values, Parameter[]? parameters)
    {
        if (parameters is null || parameters.Length != values.Length) return; // the launch's own checks report a count mismatch
        for (int i = 0; i < parameters.Length; i++)
        {
            if (!parameters[i].IsPointer || values[i] == 0) continue;
            for (int j = i + 1; j < parameters.Length; j++)
            {
                if (!parameters[j].IsPointer || values[j] != values[i]) continue;
                if (!(parameters[i].IsRestrict || parameters[j].IsRestrict) || (parameters[i].IsConst && parameters[j].IsConst)) continue;
                throw new ArgumentException(
                    $"kernel '{kernel}': arguments {i} ({parameters[i].Name}) and {j} ({parameters[j].Name}) are the same buffer, but the kernel declares them " +
                    "__restrict__ and writes one of them; pass a separate output (or give the kernel an in-place variant without __restrict__).");
            }
        }
    }
}

using System.Diagnostics;

namespace BlurVae.Training.SelfTest;

/// <summary>
/// The backend parity suite, shipped so that `blurvae selftest` can run it on a machine with a GPU: every
/// <see cref="IBackend"/> op and direction on seeded random inputs of awkward sizes (odd spatial sizes, channel counts
/// that are no multiple of a tile, batch 1 and 3, lengths around warp and block sizes), run on a candidate backend in
/// float32 and on a reference backend (the CPU backend, by default in float64), compared elementwise with
/// atol + rtol·|ref|; then one full alternating training step of a small VAE on both (<see cref="TrainingStepParity"/>).
/// One file per op family holds its cases and the reasoning behind its tolerances.
/// </summary>
public static partial class BackendParity
{
    /// <summary>Runs every check, printing one line per check to <paramref name="log"/>; never throws for a failing op.</summary>
    public static ParityResult Run(IBackend candidate, IBackend reference, ParityOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (ReferenceEquals(candidate, reference))
            throw new ArgumentException($"The candidate and the reference are the same backend ({candidate.Name}); a parity run would compare it with itself.", nameof(candidate));
        var clock = Stopwatch.StartNew();
        log.WriteLine($"Parity of {candidate.Name} (float32) against {reference.Name} ({options.ReferenceDType.ToString().ToLowerInvariant()}), seed {options.Seed}{(options.Quick ? ", quick" : "")}:");
        var h = new ParityHarness(candidate, reference, options, log);
        foreach (var family in Families) h.RunFamily(family);
        if (options.TrainingStep)
        {
            foreach (var setup in TrainingStepSetup.For(options))
                TrainingStepParity.Run(h, setup);
        }
        var result = new ParityResult(candidate.Name, reference.Name, h.Checks, clock.Elapsed);
        log.WriteLine(result.Summary);
        return result;
    }

    /// <summary>
    /// The op checks, one entry per op family, in the order they run: the one list of parity cases. `blurvae selftest`
    /// runs them all; tests/BlurVae.Tests/Parity/ShippedParityCasesTests.cs runs each as a test case on the device
    /// under test. A new IBackend op gets its check here (in BackendParity.&lt;Family&gt;.cs) and nowhere else.
    /// </summary>
    internal static readonly IReadOnlyList<ParityFamily> Families =
    [
        new("memory", Memory),
        new("unary", Unary),
        new("binary", Binary),
        new("axpby", Axpby),
        new("sum_to", SumTo),
        new("broadcast_to", BroadcastTo),
        new("copy_axis_slice", CopyAxisSlice),
        new("gemm", Gemm),
        new("bias_activation", BiasActivation),
        new("conv2d", Conv),
        new("batchnorm", BatchNorm),
        new("softmax", Softmax),
        new("resize_bilinear", Resize),
        new("pool2d", Pool),
        new("fft", Fft),
        new("wiener", Wiener),
        new("vae", Vae),
        new("adam", Adam),
        new("sgd", Sgd),
    ];

    /// <summary>Runs one family's checks alone (a test case of the kernel parity suite); never throws for a failing op.</summary>
    public static ParityResult RunFamily(string name, IBackend candidate, IBackend reference, ParityOptions options, TextWriter log)
    {
        var family = Families.FirstOrDefault(f => f.Name == name)
            ?? throw new ArgumentException($"No parity family '{name}'; the families are {string.Join(", ", FamilyNames)}.", nameof(name));
        var clock = Stopwatch.StartNew();
        var h = new ParityHarness(candidate, reference, options, log);
        h.RunFamily(family);
        return new ParityResult(candidate.Name, reference.Name, h.Checks, clock.Elapsed);
    }

    public static IEnumerable<string> FamilyNames => Families.Select(f => f.Name);

    /// <summary>Lengths for the elementwise ops: one element, less than a warp, no multiple of any block size, one past 2^12.</summary>
    private static int[] Lengths(ParityHarness h) => h.Options.Quick ? [1, 1000] : [1, 31, 1000, 4097];

    private static string Shape(int[] shape) => "[" + string.Join(",", shape) + "]";

    private static float[] Garbage(ParityHarness h, int n) => h.Uniform(n, -3, 3);

    private static Operand Out(string name, float[] initial, Tolerance tolerance) => new(name, initial, tolerance);

    private static Operand In(string name, float[] values) => new(name, values);
}

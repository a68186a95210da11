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
        Memory(h);
        Unary(h);
        Binary(h);
        Axpby(h);
        SumTo(h);
        BroadcastTo(h);
        CopyAxisSlice(h);
        Gemm(h);
        Conv(h);
        BatchNorm(h);
        Softmax(h);
        Upsample(h);
        Pool(h);
        Fft(h);
        Wiener(h);
        Vae(h);
        Adam(h);
        Sgd(h);
        if (options.TrainingStep)
        {
            foreach (var setup in TrainingStepSetup.For(options))
                TrainingStepParity.Run(h, setup);
        }
        var result = new ParityResult(candidate.Name, reference.Name, h.Checks, clock.Elapsed);
        log.WriteLine(result.Summary);
        return result;
    }

    /// <summary>Lengths for the elementwise ops: one element, less than a warp, no multiple of any block size, one past 2^12.</summary>
    private static int[] Lengths(ParityHarness h) => h.Options.Quick ? [1, 1000] : [1, 31, 1000, 4097];

    private static string Shape(int[] shape) => "[" + string.Join(",", shape) + "]";

    private static float[] Garbage(ParityHarness h, int n) => h.Uniform(n, -3, 3);

    private static Operand Out(string name, float[] initial, Tolerance tolerance) => new(name, initial, tolerance);

    private static Operand In(string name, float[] values) => new(name, values);
}

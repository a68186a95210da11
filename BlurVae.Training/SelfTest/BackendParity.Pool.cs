namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // A maximum is one of the inputs (float inputs compare the same in float and double, so both sides pick the same
    // pixel); an average sums at most 16 values and divides once; a backward adds at most a few such shares.
    private static readonly Tolerance PoolTol = new(1e-6, 1e-5);

    private static void Pool(ParityHarness h)
    {
        var geometries = new List<PoolGeometry>
        {
            // Inception: max 3×3 s2, average 3×3 s1 p1 without the padding counted, the global average.
            PoolGeometry.ForPool(PoolMode.Max, 3, 9, 8, (3, 3), (2, 2), (0, 0)),
            PoolGeometry.ForPool(PoolMode.Average, 2, 7, 5, (3, 3), (1, 1), (1, 1), countIncludePad: false),
            PoolGeometry.ForAdaptive(PoolMode.Average, 5, 6, 7, 1, 1),
        };
        if (!h.Options.Quick)
        {
            geometries.Add(PoolGeometry.ForPool(PoolMode.Max, 2, 7, 7, (3, 3), (1, 1), (1, 1)));
            geometries.Add(PoolGeometry.ForPool(PoolMode.Average, 3, 8, 9, (3, 3), (2, 2), (1, 1), countIncludePad: true));
            geometries.Add(PoolGeometry.ForPool(PoolMode.Average, 1, 5, 7, (2, 3), (2, 1), (1, 1), countIncludePad: false));
            geometries.Add(PoolGeometry.ForPool(PoolMode.Max, 4, 1, 1, (1, 1), (1, 1), (0, 0)));
            geometries.Add(PoolGeometry.ForAdaptive(PoolMode.Average, 2, 7, 5, 3, 4));
            geometries.Add(PoolGeometry.ForAdaptive(PoolMode.Max, 2, 4, 9, 6, 4));
        }
        foreach (var g in geometries)
        {
            string name = g.Mode == PoolMode.Max ? "max" : "avg";
            string sizes = $"planes={g.Planes} {g.Describe}";
            var x = h.Uniform(g.InputLength);
            h.Check($"pool2d.{name}.forward", sizes, [Out("y", Garbage(h, g.OutputLength), PoolTol), In("x", x)],
                (b, o) => b.Pool2dForward(o["y"], o["x"], g));
            h.Check($"pool2d.{name}.backward", sizes, [Out("dx", Garbage(h, g.InputLength), PoolTol), In("dy", h.Uniform(g.OutputLength)), In("x", x)],
                (b, o) => b.Pool2dBackward(o["dx"], o["dy"], o["x"], g));
        }
    }
}

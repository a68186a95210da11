namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // Forward: a weighted sum of 4 inputs with weights 1/16, 3/16, 9/16. Backward: up to 16 such terms per input.
    private static readonly Tolerance UpsampleTol = new(2e-7, 1e-6), UpsampleGradTol = new(1e-6, 1e-5);

    private static void Upsample(ParityHarness h)
    {
        (int Planes, int H, int W)[] shapes = h.Options.Quick ? [(3, 5, 7), (2, 1, 1)] : [(1, 1, 1), (2, 1, 1), (3, 5, 7), (4, 16, 16), (2, 3, 33)];
        foreach (var (planes, ht, wd) in shapes)
        {
            int small = planes * ht * wd, large = 4 * small;
            string sizes = $"planes={planes} {ht}×{wd} → {2 * ht}×{2 * wd}";
            h.Check("upsample_bilinear2x.forward", sizes, [Out("y", Garbage(h, large), UpsampleTol), In("x", h.Uniform(small))],
                (b, o) => b.UpsampleBilinear2xForward(o["y"], o["x"], planes, ht, wd));
            h.Check("upsample_bilinear2x.backward", sizes, [Out("dx", Garbage(h, small), UpsampleGradTol), In("dy", h.Uniform(large))],
                (b, o) => b.UpsampleBilinear2xBackward(o["dx"], o["dy"], planes, ht, wd));
        }
    }
}

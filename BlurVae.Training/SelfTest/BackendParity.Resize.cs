namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // A device computes the source coordinate (o + ½)·in/out − ½ in float (as PyTorch does for float tensors), the
    // CPU in double: the weights differ by up to half an ulp of the coordinate (2e-6 at 32 pixels), times a pixel
    // difference of up to 2; a backward sums up to (2·out/in + 2)² such terms per input when enlarging.
    private static readonly Tolerance ResizeTol = new(1e-5, 1e-5), ResizeGradTol = new(5e-5, 1e-5);

    private static void Resize(ParityHarness h)
    {
        // Up, down, one pixel, Inception's 32 → 299, the identity, and architecture B's 2× upsampling (odd sides, one pixel).
        (int Planes, int InH, int InW, int OutH, int OutW)[] shapes = h.Options.Quick
            ? [(3, 5, 7, 17, 11), (2, 9, 8, 4, 3), (3, 5, 7, 10, 14)]
            : [(3, 5, 7, 17, 11), (2, 9, 8, 4, 3), (1, 1, 1, 3, 2), (2, 32, 32, 299, 299), (1, 6, 6, 6, 6), (3, 5, 7, 10, 14), (2, 1, 1, 2, 2), (4, 16, 16, 32, 32)];
        foreach (var (planes, inH, inW, outH, outW) in shapes)
        {
            int small = planes * inH * inW, large = planes * outH * outW;
            string sizes = $"planes={planes} {inH}×{inW} → {outH}×{outW}";
            h.Check("resize_bilinear.forward", sizes, [Out("y", Garbage(h, large), ResizeTol), In("x", h.Uniform(small))],
                (b, o) => b.ResizeBilinearForward(o["y"], o["x"], planes, inH, inW, outH, outW));
            h.Check("resize_bilinear.backward", sizes, [Out("dx", Garbage(h, small), ResizeGradTol), In("dy", h.Uniform(large))],
                (b, o) => b.ResizeBilinearBackward(o["dx"], o["dy"], planes, inH, inW, outH, outW));
        }
    }
}

using BlurVae.Kernels.Device;

namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // Each output is a sum of `terms` products of values in [-1, 1] (implicit GEMM tiles or im2col + GEMM, in any
    // order): Tolerance.OfConv, in FP32 or, for the tensor-core kernels, TF32.

    private static void Conv(ParityHarness h)
    {
        // Forward geometries: odd sizes, the architectures' stride-2 k4 downsampling, channel counts no multiple of a tile, 1×1.
        var forward = new List<ConvGeometry>
        {
            ConvGeometry.ForConv(3, 3, 9, 11, 5, 3, 3, 1, 1),
            ConvGeometry.ForConv(1, 4, 10, 7, 6, 4, 4, 2, 1),
            // Inception's 1×7 with padding on one axis only.
            ConvGeometry.ForConv(2, 5, 9, 8, 6, 1, 7, 1, 1, 0, 3),
        };
        // Transposed convolutions (the decoders' upsampling), whose forward pass is this geometry's backward-input.
        var transposed = new List<ConvGeometry> { ConvGeometry.ForTransposed(3, 6, 5, 4, 4, 4, 4, 2, 1, 0) };
        if (!h.Options.Quick)
        {
            forward.Add(ConvGeometry.ForConv(2, 5, 8, 8, 3, 5, 5, 1, 2));
            forward.Add(ConvGeometry.ForConv(3, 17, 5, 5, 33, 3, 3, 2, 1));
            forward.Add(ConvGeometry.ForConv(1, 1, 1, 1, 1, 1, 1, 1, 0));
            forward.Add(ConvGeometry.ForConv(2, 7, 18, 16, 3, 4, 4, 2, 1));
            // Per-axis geometries: 7×1 (Inception), a stride per axis with its own phases, a 2×3 kernel at stride (1, 3).
            forward.Add(ConvGeometry.ForConv(1, 4, 11, 6, 5, 7, 1, 1, 1, 3, 0));
            forward.Add(ConvGeometry.ForConv(2, 3, 10, 9, 4, 3, 1, 2, 1, 1, 0));
            forward.Add(ConvGeometry.ForConv(1, 6, 7, 12, 3, 2, 3, 1, 3, 0, 1));
            transposed.Add(ConvGeometry.ForTransposed(1, 5, 3, 3, 7, 3, 3, 2, 1, 1));
            transposed.Add(ConvGeometry.ForTransposed(2, 16, 4, 4, 9, 4, 4, 2, 1, 0));
        }
        // A GPU candidate runs fp32 first (its SIMT kernels), then, under --precision tf32, its tensor-core kernels.
        var gpu = h.Candidate as DeviceBackend;
        var maths = gpu is not null && h.Options.Precision == MathPrecision.Tf32 ? new[] { MathPrecision.Fp32, MathPrecision.Tf32 } : [MathPrecision.Fp32];
        foreach (var math in maths)
        {
            var saved = gpu?.Device.Precision;
            if (gpu is not null) gpu.Device.Precision = math;
            try
            {
                string tag = math == MathPrecision.Tf32 ? " [tf32]" : "";
                Func<int, Tolerance> tol = terms => Tolerance.OfConv(terms, math);
                foreach (var g in forward)
                    ConvChecks(h, g, $"n={g.N} {g.InChannels}×{g.InH}×{g.InW} → {g.OutChannels}×{g.OutH}×{g.OutW} {g.KernelStridePadding}{tag}", tol);
                foreach (var g in transposed)
                    ConvChecks(h, g, $"transposed n={g.N} {g.OutChannels}×{g.OutH}×{g.OutW} → {g.InChannels}×{g.InH}×{g.InW} {g.KernelStridePadding}{tag}", tol);
            }
            finally
            {
                if (gpu is not null) gpu.Device.Precision = saved!.Value;
            }
        }
    }

    // The batch statistics the forward passes gather for a BatchNorm (IBackend's `statistics`), with the bias. The
    // operands are quarters in [-1, 1], so every output is exact in float32 (and TF32) on both sides, and the
    // statistics are checked for their own rounding alone (Tolerance.OfBatchStatistics), not for the GEMM's.
    private static void ConvStatisticsChecks(ParityHarness h, ConvGeometry g, string sizes, Func<int, Tolerance> convTol)
    {
        float[] Quarters(int n) => Enumerable.Range(0, n).Select(_ => h.Rng.Next(-4, 5) / 4f).ToArray();
        int forwardTerms = g.InChannels * g.KernelH * g.KernelW, backwardTerms = g.OutChannels * g.KernelH * g.KernelW;
        h.Check("conv2d.forward+statistics", sizes,
            [Out("y", Garbage(h, g.OutputLength), convTol(forwardTerms)),
             Out("statistics", Garbage(h, 2 * g.OutChannels), Tolerance.OfBatchStatistics(g.N * g.OutH * g.OutW, forwardTerms + 1)),
             In("x", Quarters(g.InputLength)), In("w", Quarters(g.WeightLength)), In("bias", Quarters(g.OutChannels))],
            (b, o) => b.Conv2dForward(o["y"], o["x"], o["w"], o["bias"], g, o["statistics"]));
        h.Check("conv2d.backward_input+statistics", sizes,
            [Out("dx", Garbage(h, g.InputLength), convTol(backwardTerms)),
             Out("statistics", Garbage(h, 2 * g.InChannels), Tolerance.OfBatchStatistics(g.N * g.InH * g.InW, backwardTerms + 1)),
             In("dy", Quarters(g.OutputLength)), In("w", Quarters(g.WeightLength)), In("bias", Quarters(g.InChannels))],
            (b, o) => b.Conv2dBackwardInput(o["dx"], o["dy"], o["w"], g, o["bias"], o["statistics"]));
    }

    private static void ConvChecks(ParityHarness h, ConvGeometry g, string sizes, Func<int, Tolerance> convTol)
    {
        int xLen = g.InputLength, yLen = g.OutputLength, wLen = g.WeightLength;
        var x = h.Uniform(xLen);
        var w = h.Uniform(wLen);
        var dy = h.Uniform(yLen);
        var forwardTol = convTol(g.InChannels * g.KernelH * g.KernelW);
        h.Check("conv2d.forward", sizes, [Out("y", Garbage(h, yLen), forwardTol), In("x", x), In("w", w)],
            (b, o) => b.Conv2dForward(o["y"], o["x"], o["w"], null, g));
        h.Check("conv2d.forward+bias", sizes, [Out("y", Garbage(h, yLen), forwardTol), In("x", x), In("w", w), In("bias", h.Uniform(g.OutChannels))],
            (b, o) => b.Conv2dForward(o["y"], o["x"], o["w"], o["bias"], g));
        h.Check("conv2d.backward_input", sizes,
            [Out("dx", Garbage(h, xLen), convTol(g.OutChannels * g.KernelH * g.KernelW)), In("dy", dy), In("w", w)],
            (b, o) => b.Conv2dBackwardInput(o["dx"], o["dy"], o["w"], g));
        h.Check("conv2d.backward_input+bias", sizes,
            [Out("dx", Garbage(h, xLen), convTol(g.OutChannels * g.KernelH * g.KernelW)), In("dy", dy), In("w", w), In("bias", h.Uniform(g.InChannels))],
            (b, o) => b.Conv2dBackwardInput(o["dx"], o["dy"], o["w"], g, o["bias"]));
        ConvStatisticsChecks(h, g, sizes, convTol);
        var weightTol = convTol(g.N * g.OutH * g.OutW);
        h.Check("conv2d.backward_weight", sizes, [Out("dw", Garbage(h, wLen), weightTol), In("dy", dy), In("x", x)],
            (b, o) => b.Conv2dBackwardWeight(o["dw"], null, o["dy"], o["x"], g));
        h.Check("conv2d.backward_weight+bias", sizes,
            [Out("dw", Garbage(h, wLen), weightTol), Out("dbias", Garbage(h, g.OutChannels), weightTol), In("dy", dy), In("x", x)],
            (b, o) => b.Conv2dBackwardWeight(o["dw"], o["dbias"], o["dy"], o["x"], g));
    }
}

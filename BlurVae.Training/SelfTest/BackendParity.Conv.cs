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
        };
        // Transposed convolutions (the decoders' upsampling), whose forward pass is this geometry's backward-input.
        var transposed = new List<ConvGeometry> { ConvGeometry.ForTransposed(3, 6, 5, 4, 4, 4, 4, 2, 1, 0) };
        if (!h.Options.Quick)
        {
            forward.Add(ConvGeometry.ForConv(2, 5, 8, 8, 3, 5, 5, 1, 2));
            forward.Add(ConvGeometry.ForConv(3, 17, 5, 5, 33, 3, 3, 2, 1));
            forward.Add(ConvGeometry.ForConv(1, 1, 1, 1, 1, 1, 1, 1, 0));
            forward.Add(ConvGeometry.ForConv(2, 7, 18, 16, 3, 4, 4, 2, 1));
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
                    ConvChecks(h, g, $"n={g.N} {g.InChannels}×{g.InH}×{g.InW} → {g.OutChannels}×{g.OutH}×{g.OutW} k{g.KernelH} s{g.Stride} p{g.Padding}{tag}", tol);
                foreach (var g in transposed)
                    ConvChecks(h, g, $"transposed n={g.N} {g.OutChannels}×{g.OutH}×{g.OutW} → {g.InChannels}×{g.InH}×{g.InW} k{g.KernelH} s{g.Stride} p{g.Padding}{tag}", tol);
            }
            finally
            {
                if (gpu is not null) gpu.Device.Precision = saved!.Value;
            }
        }
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
        var weightTol = convTol(g.N * g.OutH * g.OutW);
        h.Check("conv2d.backward_weight", sizes, [Out("dw", Garbage(h, wLen), weightTol), In("dy", dy), In("x", x)],
            (b, o) => b.Conv2dBackwardWeight(o["dw"], null, o["dy"], o["x"], g));
        h.Check("conv2d.backward_weight+bias", sizes,
            [Out("dw", Garbage(h, wLen), weightTol), Out("dbias", Garbage(h, g.OutChannels), weightTol), In("dy", dy), In("x", x)],
            (b, o) => b.Conv2dBackwardWeight(o["dw"], o["dbias"], o["dy"], o["x"], g));
    }
}

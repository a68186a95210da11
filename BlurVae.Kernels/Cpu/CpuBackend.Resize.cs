namespace BlurVae.Kernels.Cpu;

// Bilinear resizing with align_corners = false (F.interpolate(size=…, mode="bilinear")). Architecture B's 2× upsampling
// (nn.Upsample(scale_factor=2, mode="bilinear")) is the resize to 2h × 2w: output pixel o reads source coordinate
// (o + 0.5)/2 − 0.5, clamped at 0, which the rule below (ResizeTap) gives exactly, as multiples of 1/4.
public sealed partial class CpuBackend
{
    public void ResizeBilinearForward(BackendBuffer y, BackendBuffer x, int planes, int inH, int inW, int outH, int outW)
    {
        ShapeRules.Length(x, (long)planes * inH * inW, nameof(x));
        ShapeRules.Length(y, (long)planes * outH * outW, nameof(y));
        if (IsF32(x)) Resize<float>.Run(Arr<float>(y), Arr<float>(x), planes, inH, inW, outH, outW, adjoint: false);
        else Resize<double>.Run(Arr<double>(y), Arr<double>(x), planes, inH, inW, outH, outW, adjoint: false);
    }

    public void ResizeBilinearBackward(BackendBuffer dx, BackendBuffer dy, int planes, int inH, int inW, int outH, int outW)
    {
        ShapeRules.Length(dx, (long)planes * inH * inW, nameof(dx));
        ShapeRules.Length(dy, (long)planes * outH * outW, nameof(dy));
        if (IsF32(dy)) Resize<float>.Run(Arr<float>(dy), Arr<float>(dx), planes, inH, inW, outH, outW, adjoint: true);
        else Resize<double>.Run(Arr<double>(dy), Arr<double>(dx), planes, inH, inW, outH, outW, adjoint: true);
    }

    /// <summary>
    /// PyTorch's source-index rule for F.interpolate(size=…, mode="bilinear", align_corners=False) along an axis of
    /// input length n and output length m: src = max((o + ½)·n/m − ½, 0), i0 = ⌊src⌋, i1 = i0 + 1 unless i0 is the
    /// last pixel (then i1 = i0), weights (1 − λ, λ) with λ = src − i0.
    /// </summary>
    internal static (int I0, int I1, double W0, double W1) ResizeTap(int o, int n, int m)
    {
        double src = Math.Max((o + 0.5) * ((double)n / m) - 0.5, 0.0);
        int i0 = Math.Min((int)src, n - 1);
        int i1 = i0 < n - 1 ? i0 + 1 : i0;
        double w1 = src - i0;
        return (i0, i1, 1.0 - w1, w1);
    }

    private static class Resize<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        // y = R·x per plane, R = rows ⊗ cols of taps; the adjoint (backward) scatters dy through the same taps into dx.
        public static void Run(T[] y, T[] x, int planes, int inH, int inW, int outH, int outW, bool adjoint)
        {
            var rows = Taps(outH, inH);
            var cols = Taps(outW, inW);
            Parallelism.ForEach(planes, (long)outH * outW * 4, p =>
            {
                var src = x.AsSpan(p * inH * inW, inH * inW);
                var dst = y.AsSpan(p * outH * outW, outH * outW);
                if (adjoint) src.Clear();
                for (int r = 0; r < outH; r++)
                {
                    var (r0, r1, a0, a1) = rows[r];
                    for (int c = 0; c < outW; c++)
                    {
                        var (c0, c1, b0, b1) = cols[c];
                        if (!adjoint)
                        {
                            dst[r * outW + c] = a0 * (b0 * src[r0 * inW + c0] + b1 * src[r0 * inW + c1]) + a1 * (b0 * src[r1 * inW + c0] + b1 * src[r1 * inW + c1]);
                            continue;
                        }
                        T g = dst[r * outW + c];
                        src[r0 * inW + c0] += a0 * b0 * g;
                        src[r0 * inW + c1] += a0 * b1 * g;
                        src[r1 * inW + c0] += a1 * b0 * g;
                        src[r1 * inW + c1] += a1 * b1 * g;
                    }
                }
            });
        }

        private static (int, int, T, T)[] Taps(int outLen, int inLen)
        {
            var taps = new (int, int, T, T)[outLen];
            for (int o = 0; o < outLen; o++)
            {
                var (i0, i1, w0, w1) = ResizeTap(o, inLen, outLen);
                taps[o] = (i0, i1, T.CreateTruncating(w0), T.CreateTruncating(w1));
            }
            return taps;
        }
    }
}

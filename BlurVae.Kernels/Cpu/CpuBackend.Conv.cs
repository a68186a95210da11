using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// 2-D convolution as im2col + one GEMM over the whole batch, except for the thin layers DirectConv handles. One GEMM of [Cout, Cin·k²]·[Cin·k², N·OH·OW]
// keeps the GEMM wide even for the deep layers of a VAE encoder, where each image has only 2×2 or 4×4 outputs
// and a per-image GEMM would be too skinny to use the SIMD micro-kernel well.
public sealed partial class CpuBackend
{
    public void Conv2dForward(DeviceBuffer y, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, ConvGeometry g)
    {
        CheckConv(g, x, w, y, bias);
        if (IsF32(x)) Conv<float>.Forward(Arr<float>(y), Arr<float>(x), Arr<float>(w), ArrOrNull<float>(bias), g);
        else Conv<double>.Forward(Arr<double>(y), Arr<double>(x), Arr<double>(w), ArrOrNull<double>(bias), g);
    }

    public void Conv2dBackwardInput(DeviceBuffer dx, DeviceBuffer dy, DeviceBuffer w, ConvGeometry g)
    {
        CheckConv(g, dx, w, dy, null);
        if (IsF32(dy)) Conv<float>.BackwardInput(Arr<float>(dx), Arr<float>(dy), Arr<float>(w), g);
        else Conv<double>.BackwardInput(Arr<double>(dx), Arr<double>(dy), Arr<double>(w), g);
    }

    public void Conv2dBackwardWeight(DeviceBuffer dw, DeviceBuffer? dbias, DeviceBuffer dy, DeviceBuffer x, ConvGeometry g)
    {
        CheckConv(g, x, dw, dy, dbias);
        if (IsF32(dy)) Conv<float>.BackwardWeight(Arr<float>(dw), ArrOrNull<float>(dbias), Arr<float>(dy), Arr<float>(x), g);
        else Conv<double>.BackwardWeight(Arr<double>(dw), ArrOrNull<double>(dbias), Arr<double>(dy), Arr<double>(x), g);
    }

    private static void CheckConv(ConvGeometry g, DeviceBuffer x, DeviceBuffer w, DeviceBuffer y, DeviceBuffer? bias)
    {
        CheckLength(x, g.InputLength, "input");
        CheckLength(w, g.WeightLength, "weight");
        CheckLength(y, g.OutputLength, "output");
        if (bias is not null) CheckLength(bias, g.OutChannels, "bias");
    }

    private static class Conv<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static bool IsFloat => typeof(T) == typeof(float);

        public static void Forward(T[] y, T[] x, T[] w, T[]? bias, ConvGeometry g)
        {
            if (DirectConv<T>.Suits(g))
            {
                DirectConv<T>.Forward(y, x, w, bias, g);
                return;
            }
            int kdim = g.InChannels * g.KernelH * g.KernelW;
            int spatial = g.OutH * g.OutW;
            int cols = g.N * spatial;
            T[] col = ArrayPool<T>.Shared.Rent(kdim * cols);
            T[] outT = ArrayPool<T>.Shared.Rent(g.OutChannels * cols);
            try
            {
                Im2Col(col, x, g);
                // [Cout, kdim] · [kdim, N·S] → [Cout, N·S]
                GemmT(false, false, g.OutChannels, cols, kdim, w, kdim, col, cols, outT, cols);
                // Scatter [Cout, N, S] into y[N, Cout, S], adding the bias on the way.
                Parallelism.ForEach(g.N * g.OutChannels, spatial, nc =>
                {
                    int n = nc / g.OutChannels, co = nc % g.OutChannels;
                    var src = outT.AsSpan(co * cols + n * spatial, spatial);
                    var dst = y.AsSpan(nc * spatial, spatial);
                    if (bias is null) src.CopyTo(dst);
                    else TensorPrimitives.Add(src, bias[co], dst);
                });
            }
            finally
            {
                ArrayPool<T>.Shared.Return(col);
                ArrayPool<T>.Shared.Return(outT);
            }
        }

        public static void BackwardInput(T[] dx, T[] dy, T[] w, ConvGeometry g)
        {
            if (DirectConv<T>.SuitsBackwardInput(g))
            {
                DirectConv<T>.BackwardInput(dx, dy, w, g);
                return;
            }
            int kdim = g.InChannels * g.KernelH * g.KernelW;
            int spatial = g.OutH * g.OutW;
            int cols = g.N * spatial;
            T[] dyT = ArrayPool<T>.Shared.Rent(g.OutChannels * cols);
            T[] dcol = ArrayPool<T>.Shared.Rent(kdim * cols);
            try
            {
                GatherChannelMajor(dyT, dy, g.N, g.OutChannels, spatial);
                // [kdim, Cout] · [Cout, N·S] → [kdim, N·S]
                GemmT(true, false, kdim, cols, g.OutChannels, w, kdim, dyT, cols, dcol, cols);
                Col2Im(dx, dcol, g);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(dyT);
                ArrayPool<T>.Shared.Return(dcol);
            }
        }

        public static void BackwardWeight(T[] dw, T[]? dbias, T[] dy, T[] x, ConvGeometry g)
        {
            if (DirectConv<T>.Suits(g))
            {
                DirectConv<T>.BackwardWeight(dw, dbias, dy, x, g);
                return;
            }
            int kdim = g.InChannels * g.KernelH * g.KernelW;
            int spatial = g.OutH * g.OutW;
            int cols = g.N * spatial;
            T[] dyT = ArrayPool<T>.Shared.Rent(g.OutChannels * cols);
            T[] col = ArrayPool<T>.Shared.Rent(kdim * cols);
            try
            {
                GatherChannelMajor(dyT, dy, g.N, g.OutChannels, spatial);
                Im2Col(col, x, g);
                // [Cout, N·S] · [N·S, kdim] → [Cout, kdim]
                GemmT(false, true, g.OutChannels, kdim, cols, dyT, cols, col, cols, dw, kdim);
                if (dbias is not null)
                    for (int co = 0; co < g.OutChannels; co++)
                        dbias[co] = TensorPrimitives.Sum<T>(dyT.AsSpan(co * cols, cols));
            }
            finally
            {
                ArrayPool<T>.Shared.Return(dyT);
                ArrayPool<T>.Shared.Return(col);
            }
        }

        private static void GemmT(bool ta, bool tb, int m, int n, int k, T[] a, int lda, T[] b, int ldb, T[] c, int ldc)
        {
            if (IsFloat)
                Cpu.Gemm.Sgemm(ta, tb, m, n, k, 1f, (float[])(object)a, lda, (float[])(object)b, ldb, 0f, (float[])(object)c, ldc, Parallelism.MaxThreads);
            else
                Cpu.Gemm.Dgemm(ta, tb, m, n, k, 1.0, (double[])(object)a, lda, (double[])(object)b, ldb, 0.0, (double[])(object)c, ldc, Parallelism.MaxThreads);
        }

        // dy[N, C, S] → dyT[C, N·S]
        private static void GatherChannelMajor(T[] dst, T[] src, int n, int c, int spatial)
        {
            Parallelism.ForEach(n * c, spatial, nc =>
            {
                int ni = nc / c, ci = nc % c;
                src.AsSpan(nc * spatial, spatial).CopyTo(dst.AsSpan((ci * n + ni) * spatial, spatial));
            });
        }

        // col[(ci·kh + i)·kw + j, n·S + oh·OW + ow] = x[n, ci, oh·s − p + i, ow·s − p + j] (0 outside).
        private static void Im2Col(T[] col, T[] x, ConvGeometry g)
        {
            int kk = g.KernelH * g.KernelW;
            int spatial = g.OutH * g.OutW;
            int cols = g.N * spatial;
            Parallelism.ForEach(g.InChannels * kk, cols, row =>
            {
                int ci = row / kk, i = row % kk / g.KernelW, j = row % g.KernelW;
                var dstRow = col.AsSpan(row * cols, cols);
                for (int n = 0; n < g.N; n++)
                {
                    int plane = (n * g.InChannels + ci) * g.InH * g.InW;
                    for (int oh = 0; oh < g.OutH; oh++)
                    {
                        var dst = dstRow.Slice(n * spatial + oh * g.OutW, g.OutW);
                        int ih = oh * g.Stride - g.Padding + i;
                        if ((uint)ih >= (uint)g.InH)
                        {
                            dst.Clear();
                            continue;
                        }
                        int rowBase = plane + ih * g.InW;
                        int iw0 = j - g.Padding;
                        if (g.Stride == 1)
                        {
                            // Contiguous run with zero borders.
                            int lo = Math.Max(0, -iw0), hi = Math.Min(g.OutW, g.InW - iw0);
                            if (hi <= lo)
                            {
                                dst.Clear();
                                continue;
                            }
                            dst.Slice(0, lo).Clear();
                            x.AsSpan(rowBase + iw0 + lo, hi - lo).CopyTo(dst.Slice(lo));
                            dst.Slice(hi).Clear();
                        }
                        else
                        {
                            for (int ow = 0; ow < g.OutW; ow++)
                            {
                                int iw = iw0 + ow * g.Stride;
                                dst[ow] = (uint)iw < (uint)g.InW ? x[rowBase + iw] : T.Zero;
                            }
                        }
                    }
                }
            });
        }

        // The adjoint of Im2Col: every column entry adds back into the input pixel it was read from.
        // Parallel over input planes (n, ci), which receive from disjoint column rows, so no two threads collide.
        private static void Col2Im(T[] dx, T[] col, ConvGeometry g)
        {
            int kk = g.KernelH * g.KernelW;
            int spatial = g.OutH * g.OutW;
            int cols = g.N * spatial;
            Parallelism.ForEach(g.N * g.InChannels, (long)kk * spatial, nc =>
            {
                int n = nc / g.InChannels, ci = nc % g.InChannels;
                var plane = dx.AsSpan(nc * g.InH * g.InW, g.InH * g.InW);
                plane.Clear();
                for (int r = 0; r < kk; r++)
                {
                    int i = r / g.KernelW, j = r % g.KernelW;
                    var src = col.AsSpan((ci * kk + r) * cols + n * spatial, spatial);
                    for (int oh = 0; oh < g.OutH; oh++)
                    {
                        int ih = oh * g.Stride - g.Padding + i;
                        if ((uint)ih >= (uint)g.InH) continue;
                        var dstRow = plane.Slice(ih * g.InW, g.InW);
                        var srcRow = src.Slice(oh * g.OutW, g.OutW);
                        int iw0 = j - g.Padding;
                        if (g.Stride == 1)
                        {
                            int lo = Math.Max(0, -iw0), hi = Math.Min(g.OutW, g.InW - iw0);
                            if (hi > lo)
                            {
                                var d = dstRow.Slice(iw0 + lo, hi - lo);
                                TensorPrimitives.Add(d, srcRow.Slice(lo, hi - lo), d);
                            }
                        }
                        else
                        {
                            for (int ow = 0; ow < g.OutW; ow++)
                            {
                                int iw = iw0 + ow * g.Stride;
                                if ((uint)iw < (uint)g.InW) dstRow[iw] += srcRow[ow];
                            }
                        }
                    }
                }
            });
        }
    }
}

using System.Buffers;
using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// Batch normalisation over x viewed as [n, c, spatial]: statistics per channel over n·spatial values.
// Forward and backward side by side; parallel over channels (each channel's sums are independent).
public sealed partial class CpuBackend
{
    public void BatchNormForwardTraining(BackendBuffer y, BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer x,
        BackendBuffer? gamma, BackendBuffer? beta, BackendBuffer? runningMean, BackendBuffer? runningVar,
        int n, int c, int spatial, double eps, double momentum, BackendBuffer? statistics = null)
    {
        CheckBatchNorm(x, y, n, c, spatial, statistics);
        if (IsF32(x))
            BatchNorm<float>.ForwardTraining(Arr<float>(y), Arr<float>(saveMean), Arr<float>(saveInvStd), Arr<float>(x), ArrOrNull<float>(gamma), ArrOrNull<float>(beta),
                ArrOrNull<float>(runningMean), ArrOrNull<float>(runningVar), n, c, spatial, eps, momentum, null, ArrOrNull<float>(statistics));
        else
            BatchNorm<double>.ForwardTraining(Arr<double>(y), Arr<double>(saveMean), Arr<double>(saveInvStd), Arr<double>(x), ArrOrNull<double>(gamma), ArrOrNull<double>(beta),
                ArrOrNull<double>(runningMean), ArrOrNull<double>(runningVar), n, c, spatial, eps, momentum, null, ArrOrNull<double>(statistics));
    }

    // The fused BatchNorm → LeakyReLU: the same statistics, the activation applied in the normalising pass.
    public void BatchNormLeakyReluForwardTraining(BackendBuffer y, BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer x,
        BackendBuffer? gamma, BackendBuffer? beta, BackendBuffer? runningMean, BackendBuffer? runningVar,
        int n, int c, int spatial, double eps, double momentum, double negativeSlope, BackendBuffer? statistics = null)
    {
        CheckBatchNorm(x, y, n, c, spatial, statistics);
        CheckNegativeSlope(negativeSlope);
        if (IsF32(x))
            BatchNorm<float>.ForwardTraining(Arr<float>(y), Arr<float>(saveMean), Arr<float>(saveInvStd), Arr<float>(x), ArrOrNull<float>(gamma), ArrOrNull<float>(beta),
                ArrOrNull<float>(runningMean), ArrOrNull<float>(runningVar), n, c, spatial, eps, momentum, negativeSlope, ArrOrNull<float>(statistics));
        else
            BatchNorm<double>.ForwardTraining(Arr<double>(y), Arr<double>(saveMean), Arr<double>(saveInvStd), Arr<double>(x), ArrOrNull<double>(gamma), ArrOrNull<double>(beta),
                ArrOrNull<double>(runningMean), ArrOrNull<double>(runningVar), n, c, spatial, eps, momentum, negativeSlope, ArrOrNull<double>(statistics));
    }

    // Its backward: the LeakyReLU gradient read from the output y inside the batch-norm backward's two passes.
    public void BatchNormLeakyReluBackward(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer y, BackendBuffer x,
        BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer? gamma, int n, int c, int spatial, double negativeSlope)
    {
        CheckBatchNorm(x, dy, n, c, spatial);
        ShapeRules.Length(y, (long)n * c * spatial, nameof(y));
        CheckNegativeSlope(negativeSlope);
        if (IsF32(x))
            BatchNorm<float>.Backward(Arr<float>(dx), ArrOrNull<float>(dgamma), ArrOrNull<float>(dbeta), Arr<float>(dy), Arr<float>(x), Arr<float>(saveMean), Arr<float>(saveInvStd), ArrOrNull<float>(gamma), n, c, spatial,
                Arr<float>(y), negativeSlope);
        else
            BatchNorm<double>.Backward(Arr<double>(dx), ArrOrNull<double>(dgamma), ArrOrNull<double>(dbeta), Arr<double>(dy), Arr<double>(x), Arr<double>(saveMean), Arr<double>(saveInvStd), ArrOrNull<double>(gamma), n, c, spatial,
                Arr<double>(y), negativeSlope);
    }

    // The fused backward takes the branch from the output (y > 0 exactly where z > 0), which holds for slopes ≥ 0.
    private static void CheckNegativeSlope(double negativeSlope)
    {
        if (!(negativeSlope >= 0)) throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, "the fused LeakyReLU needs a negative slope ≥ 0");
    }

    public void BatchNormForwardInference(BackendBuffer y, BackendBuffer x, BackendBuffer runningMean, BackendBuffer runningVar,
        BackendBuffer? gamma, BackendBuffer? beta, int n, int c, int spatial, double eps)
    {
        CheckBatchNorm(x, y, n, c, spatial);
        if (IsF32(x))
            BatchNorm<float>.ForwardInference(Arr<float>(y), Arr<float>(x), Arr<float>(runningMean), Arr<float>(runningVar), ArrOrNull<float>(gamma), ArrOrNull<float>(beta), n, c, spatial, eps);
        else
            BatchNorm<double>.ForwardInference(Arr<double>(y), Arr<double>(x), Arr<double>(runningMean), Arr<double>(runningVar), ArrOrNull<double>(gamma), ArrOrNull<double>(beta), n, c, spatial, eps);
    }

    public void BatchNormBackward(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer x,
        BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer? gamma, int n, int c, int spatial)
    {
        CheckBatchNorm(x, dy, n, c, spatial);
        if (IsF32(x))
            BatchNorm<float>.Backward(Arr<float>(dx), ArrOrNull<float>(dgamma), ArrOrNull<float>(dbeta), Arr<float>(dy), Arr<float>(x), Arr<float>(saveMean), Arr<float>(saveInvStd), ArrOrNull<float>(gamma), n, c, spatial, null, 0);
        else
            BatchNorm<double>.Backward(Arr<double>(dx), ArrOrNull<double>(dgamma), ArrOrNull<double>(dbeta), Arr<double>(dy), Arr<double>(x), Arr<double>(saveMean), Arr<double>(saveInvStd), ArrOrNull<double>(gamma), n, c, spatial, null, 0);
    }

    public void BatchNormBackwardInference(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer x,
        BackendBuffer runningMean, BackendBuffer runningVar, BackendBuffer? gamma, int n, int c, int spatial, double eps)
    {
        CheckBatchNorm(x, dy, n, c, spatial);
        if (IsF32(x))
            BatchNorm<float>.BackwardInference(Arr<float>(dx), ArrOrNull<float>(dgamma), ArrOrNull<float>(dbeta), Arr<float>(dy), Arr<float>(x), Arr<float>(runningMean), Arr<float>(runningVar), ArrOrNull<float>(gamma), n, c, spatial, eps);
        else
            BatchNorm<double>.BackwardInference(Arr<double>(dx), ArrOrNull<double>(dgamma), ArrOrNull<double>(dbeta), Arr<double>(dy), Arr<double>(x), Arr<double>(runningMean), Arr<double>(runningVar), ArrOrNull<double>(gamma), n, c, spatial, eps);
    }

    private static void CheckBatchNorm(BackendBuffer x, BackendBuffer y, int n, int c, int spatial, BackendBuffer? statistics = null)
    {
        ShapeRules.Length(x, (long)n * c * spatial, nameof(x));
        ShapeRules.Length(y, (long)n * c * spatial, nameof(y));
        if (statistics is not null) ShapeRules.Length(statistics, 2L * c, nameof(statistics));
    }

    private static class BatchNorm<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        // With a negative slope, y = LeakyReLU of the normalised value, applied in the same pass (the fused op). With
        // statistics ([c, 2]: mean, centred sum of squares, a convolution's) the two statistics passes are skipped;
        // everything from the statistics on (variance, inverse std, running statistics, the apply) is the same code.
        public static void ForwardTraining(T[] y, T[] saveMean, T[] saveInvStd, T[] x, T[]? gamma, T[]? beta, T[]? runningMean, T[]? runningVar,
            int n, int c, int spatial, double eps, double momentum, double? negativeSlope, T[]? statistics = null)
        {
            int count = n * spatial;
            if (count < 2 && runningVar is not null)
                throw new ArgumentException($"Batch normalisation in training needs more than one value per channel (got n={n}, spatial={spatial}).");
            // Each core takes a range of channels and sweeps the images in order, so it streams through contiguous
            // runs of [channels × spatial]: walking one channel at a time jumps by c·spatial between images, a
            // power-of-two stride for typical layers whose lines all land in the same cache sets. The per-channel
            // sums are still taken image by image in order, so the results are those of a channel-at-a-time loop.
            Parallelism.ForRange(c, ChannelGrain(c, count), (c0, c1) =>
            {
                int cc = c1 - c0;
                // Per-channel scratch from the pool: a loop cuts the channels into several ranges per thread, and
                // four small arrays per range were most of a step's remaining managed allocation.
                T[] scratch = ArrayPool<T>.Shared.Rent(5 * cc);
                var means = scratch.AsSpan(0, cc);
                var sqs = scratch.AsSpan(cc, cc);
                if (statistics is not null)
                    for (int ch = c0; ch < c1; ch++)
                        (means[ch - c0], sqs[ch - c0]) = (statistics[2 * ch], statistics[2 * ch + 1]);
                else
                    Statistics(means, sqs, scratch.AsSpan(4 * cc, cc), x, 0, n, c, spatial, c0, c1);
                var scales = scratch.AsSpan(2 * cc, cc);
                var shifts = scratch.AsSpan(3 * cc, cc);
                for (int ch = c0; ch < c1; ch++)
                {
                    T mean = means[ch - c0], sq = sqs[ch - c0];
                    T variance = sq / T.CreateTruncating(count);
                    T invStd = T.One / T.Sqrt(variance + T.CreateTruncating(eps));
                    saveMean[ch] = mean;
                    saveInvStd[ch] = invStd;
                    T scale = gamma is null ? invStd : gamma[ch] * invStd;
                    scales[ch - c0] = scale;
                    shifts[ch - c0] = (beta is null ? T.Zero : beta[ch]) - mean * scale;
                    if (runningMean is not null && runningVar is not null)
                    {
                        T m = T.CreateTruncating(momentum);
                        T unbiased = count > 1 ? sq / T.CreateTruncating(count - 1) : variance;
                        runningMean[ch] = (T.One - m) * runningMean[ch] + m * mean;
                        runningVar[ch] = (T.One - m) * runningVar[ch] + m * unbiased;
                    }
                }
                bool leaky = negativeSlope is not null;
                T slope = T.CreateTruncating(negativeSlope ?? 0);
                if (IsNarrow(spatial))
                {
                    // Small planes (the deep layers' 2×2, 4×4): one pass per image over the range's contiguous run,
                    // the per-channel scale and shift spread over their planes' lanes.
                    int run = cc * spatial;
                    T[] scaleLanes = Spread(scales, spatial), shiftLanes = Spread(shifts, spatial);
                    for (int i = 0; i < n; i++)
                    {
                        int off = (i * c + c0) * spatial;
                        ScaleShift(y.AsSpan(off, run), x.AsSpan(off, run), new Lanes(scaleLanes), new Lanes(shiftLanes), leaky, slope);
                    }
                    ArrayPool<T>.Shared.Return(scaleLanes);
                    ArrayPool<T>.Shared.Return(shiftLanes);
                }
                else
                {
                    for (int i = 0; i < n; i++)
                        for (int ch = c0; ch < c1; ch++)
                        {
                            int off = (i * c + ch) * spatial;
                            ScaleShift(y.AsSpan(off, spatial), x.AsSpan(off, spatial), new Uniform(scales[ch - c0]), new Uniform(shifts[ch - c0]), leaky, slope);
                        }
                }
                ArrayPool<T>.Shared.Return(scratch);
            });
        }

        // Per channel c0 … c1−1 over images n0 … n0+nb−1: the mean, then Σ (x − mean)² (two passes keep float32 variance
        // accurate), image by image in order. Also the rule of a convolution's per-chunk statistics (CpuBackend.ConvStatistics.cs).
        public static void Statistics(Span<T> means, Span<T> sqs, Span<T> sums, T[] x, int n0, int nb, int c, int spatial, int c0, int c1)
        {
            sums.Clear();
            sqs.Clear();
            for (int i = n0; i < n0 + nb; i++)
                for (int ch = c0; ch < c1; ch++)
                    sums[ch - c0] += TensorPrimitives.Sum<T>(x.AsSpan((i * c + ch) * spatial, spatial));
            for (int k = 0; k < c1 - c0; k++) means[k] = sums[k] / T.CreateTruncating((long)nb * spatial);
            for (int i = n0; i < n0 + nb; i++)
                for (int ch = c0; ch < c1; ch++)
                    sqs[ch - c0] += SumSquaredDeviations(x.AsSpan((i * c + ch) * spatial, spatial), means[ch - c0]);
        }

        // Planes this small are swept image by image as one run over a channel range, with per-lane coefficients
        // (Lanes): per plane, a call and its vector tail cost more than the plane's few values.
        private static bool IsNarrow(int spatial) => spatial < 4 * Vector<T>.Count;

        // A per-channel coefficient at position i of a run: one value for a whole plane (Uniform), or one per position of
        // a run of small planes (Lanes, filled by Spread). The kernels take either as a struct type parameter, so each
        // is compiled for both and the per-element arithmetic is the same.
        private interface ICoefficient
        {
            Vector<T> Vector(int i);
            T At(int i);
        }

        private readonly struct Uniform(T value) : ICoefficient
        {
            public Vector<T> Vector(int i) => new(value);
            public T At(int i) => value;
        }

        private readonly struct Lanes(T[] values) : ICoefficient
        {
            public Vector<T> Vector(int i) => new(values, i);
            public T At(int i) => values[i];
        }

        // values[k] repeated over plane k's positions, in an array from the pool (the caller returns it).
        private static T[] Spread(ReadOnlySpan<T> values, int spatial)
        {
            T[] lanes = ArrayPool<T>.Shared.Rent(values.Length * spatial);
            for (int k = 0; k < values.Length; k++) lanes.AsSpan(k * spatial, spatial).Fill(values[k]);
            return lanes;
        }

        // y = z, or for the fused op z for z > 0 and slope·z otherwise, with z = x·scale + shift: the two roundings of
        // the unfused Multiply and Add, then CpuBackend's LeakyRelu, so the fused forward equals the unfused pair bit
        // for bit (and Lanes equal Uniform). SIMD.
        private static void ScaleShift<TS, TB>(Span<T> y, ReadOnlySpan<T> x, TS scale, TB shift, bool leaky, T slope)
            where TS : struct, ICoefficient where TB : struct, ICoefficient
        {
            int vc = Vector<T>.Count, i = 0;
            var vl = new Vector<T>(slope);
            if (leaky)
                for (; i + vc <= x.Length; i += vc)
                {
                    var z = new Vector<T>(x.Slice(i)) * scale.Vector(i) + shift.Vector(i);
                    Vector.ConditionalSelect(Vector.GreaterThan(z, Vector<T>.Zero), z, z * vl).CopyTo(y.Slice(i));
                }
            else
                for (; i + vc <= x.Length; i += vc)
                    (new Vector<T>(x.Slice(i)) * scale.Vector(i) + shift.Vector(i)).CopyTo(y.Slice(i));
            for (; i < x.Length; i++)
            {
                T z = x[i] * scale.At(i) + shift.At(i);
                y[i] = !leaky || z > T.Zero ? z : slope * z;
            }
        }

        // The gradient at the normalised value: dy, or for the fused op the LeakyReLU gradient read from its output y.
        private static Vector<T> Gradient(Vector<T> dy, ReadOnlySpan<T> y, int i, Vector<T> slope) =>
            y.IsEmpty ? dy : Vector.ConditionalSelect(Vector.GreaterThan(new Vector<T>(y.Slice(i)), Vector<T>.Zero), dy, dy * slope);

        private static T Gradient(T dy, ReadOnlySpan<T> y, int i, T slope) => y.IsEmpty || y[i] > T.Zero ? dy : slope * dy;

        // Channels per core's range: every core when the op is large, inline when it is too small to split.
        private static int ChannelGrain(int c, int count) => (int)Math.Max(1, Math.Min(c, 32_768L / Math.Max(1L, 3L * count)));

        // Σ (x − mean)², SIMD (also the per-part statistics of a convolution's output, CpuBackend.ConvStatistics.cs).
        public static T SumSquaredDeviations(ReadOnlySpan<T> x, T mean)
        {
            int vc = Vector<T>.Count, i = 0;
            var vm = new Vector<T>(mean);
            var acc = Vector<T>.Zero;
            for (; i + vc <= x.Length; i += vc)
            {
                var d = new Vector<T>(x.Slice(i)) - vm;
                acc += d * d;
            }
            T sum = Vector.Sum(acc);
            for (; i < x.Length; i++)
            {
                T d = x[i] - mean;
                sum += d * d;
            }
            return sum;
        }

        // (Σ g, Σ g·(x − mean)) with g = Gradient(dy, y), SIMD.
        private static (T SumDy, T SumDyCentred) SumAndCentredDot(ReadOnlySpan<T> dy, ReadOnlySpan<T> y, T slope, ReadOnlySpan<T> x, T mean)
        {
            int vc = Vector<T>.Count, i = 0;
            Vector<T> vm = new(mean), vl = new(slope);
            Vector<T> a = Vector<T>.Zero, b = Vector<T>.Zero;
            for (; i + vc <= x.Length; i += vc)
            {
                var g = Gradient(new Vector<T>(dy.Slice(i)), y, i, vl);
                a += g;
                b += g * (new Vector<T>(x.Slice(i)) - vm);
            }
            T sa = Vector.Sum(a), sb = Vector.Sum(b);
            for (; i < x.Length; i++)
            {
                T g = Gradient(dy[i], y, i, slope);
                sa += g;
                sb += g * (x[i] - mean);
            }
            return (sa, sb);
        }

        // Per position of a run of small planes: accA += g, accB += g·(x − mean), g = Gradient(dy, y), SIMD (the planes'
        // sums of SumAndCentredDot, reduced over the positions of each plane once all images are in).
        private static void AccumulateLanes(Span<T> accA, Span<T> accB, ReadOnlySpan<T> dy, ReadOnlySpan<T> y, T slope, ReadOnlySpan<T> x, T[] mean)
        {
            int vc = Vector<T>.Count, i = 0;
            var vl = new Vector<T>(slope);
            for (; i + vc <= x.Length; i += vc)
            {
                var g = Gradient(new Vector<T>(dy.Slice(i)), y, i, vl);
                (new Vector<T>(accA.Slice(i)) + g).CopyTo(accA.Slice(i));
                (new Vector<T>(accB.Slice(i)) + g * (new Vector<T>(x.Slice(i)) - new Vector<T>(mean, i))).CopyTo(accB.Slice(i));
            }
            for (; i < x.Length; i++)
            {
                T g = Gradient(dy[i], y, i, slope);
                accA[i] += g;
                accB[i] += g * (x[i] - mean[i]);
            }
        }

        // dx = a1·g + a2·(x − mean) + a0 with g = Gradient(dy, y), SIMD.
        private static void Combine<TC>(Span<T> dx, ReadOnlySpan<T> dy, ReadOnlySpan<T> y, T slope, ReadOnlySpan<T> x, TC a1, TC a2, TC mean, TC a0)
            where TC : struct, ICoefficient
        {
            int vc = Vector<T>.Count, i = 0;
            var vl = new Vector<T>(slope);
            for (; i + vc <= x.Length; i += vc)
                (a1.Vector(i) * Gradient(new Vector<T>(dy.Slice(i)), y, i, vl) + a2.Vector(i) * (new Vector<T>(x.Slice(i)) - mean.Vector(i)) + a0.Vector(i)).CopyTo(dx.Slice(i));
            for (; i < x.Length; i++) dx[i] = a1.At(i) * Gradient(dy[i], y, i, slope) + a2.At(i) * (x[i] - mean.At(i)) + a0.At(i);
        }

        public static void ForwardInference(T[] y, T[] x, T[] runningMean, T[] runningVar, T[]? gamma, T[]? beta, int n, int c, int spatial, double eps)
        {
            Parallelism.ForEach(c, (long)n * spatial, ch =>
            {
                T invStd = T.One / T.Sqrt(runningVar[ch] + T.CreateTruncating(eps));
                T scale = gamma is null ? invStd : gamma[ch] * invStd;
                T shift = (beta is null ? T.Zero : beta[ch]) - runningMean[ch] * scale;
                for (int i = 0; i < n; i++)
                {
                    int off = (i * c + ch) * spatial;
                    ScaleShift(y.AsSpan(off, spatial), x.AsSpan(off, spatial), new Uniform(scale), new Uniform(shift), leaky: false, T.Zero);
                }
            });
        }

        // With x̂ = (x − μ)·s, s = 1/σ, M = n·spatial: dβ = Σdy, dγ = Σdy·x̂, dx = γ·s/M · (M·dy − dβ − x̂·dγ).
        // With y (the fused op's output), dy first goes through the LeakyReLU gradient of that slope.
        public static void Backward(T[] dx, T[]? dgamma, T[]? dbeta, T[] dy, T[] x, T[] saveMean, T[] saveInvStd, T[]? gamma, int n, int c, int spatial,
            T[]? y, double negativeSlope)
        {
            int count = n * spatial;
            T slope = T.CreateTruncating(negativeSlope);
            // Channel ranges swept image by image, as in ForwardTraining; per-channel sums in the same order.
            Parallelism.ForRange(c, ChannelGrain(c, count), (c0, c1) =>
            {
                int cc = c1 - c0;
                T[] scratch = ArrayPool<T>.Shared.Rent(5 * cc); // as in ForwardTraining: no arrays per channel range
                var sumDy = scratch.AsSpan(0, cc);
                var sumDyCentred = scratch.AsSpan(cc, cc);
                bool narrow = IsNarrow(spatial);
                int run = cc * spatial;
                T[]? meanLanes = narrow ? Spread(saveMean.AsSpan(c0, cc), spatial) : null;
                if (narrow)
                {
                    // Small planes: the sums per position over the images first, one pass per image over the range's
                    // run; then each plane's positions (spatial < 4 vectors, so a different order than the per-plane sums).
                    T[] acc = ArrayPool<T>.Shared.Rent(2 * run);
                    var accA = acc.AsSpan(0, run);
                    var accB = acc.AsSpan(run, run);
                    accA.Clear();
                    accB.Clear();
                    for (int i = 0; i < n; i++)
                    {
                        int off = (i * c + c0) * spatial;
                        AccumulateLanes(accA, accB, dy.AsSpan(off, run), YSlice(y, off, run), slope, x.AsSpan(off, run), meanLanes!);
                    }
                    for (int k = 0; k < cc; k++)
                    {
                        sumDy[k] = TensorPrimitives.Sum<T>(accA.Slice(k * spatial, spatial));
                        sumDyCentred[k] = TensorPrimitives.Sum<T>(accB.Slice(k * spatial, spatial));
                    }
                    ArrayPool<T>.Shared.Return(acc);
                }
                else
                {
                    sumDy.Clear();
                    sumDyCentred.Clear();
                    for (int i = 0; i < n; i++)
                        for (int ch = c0; ch < c1; ch++)
                        {
                            int off = (i * c + ch) * spatial;
                            var (a, b) = SumAndCentredDot(dy.AsSpan(off, spatial), YSlice(y, off, spatial), slope, x.AsSpan(off, spatial), saveMean[ch]);
                            sumDy[ch - c0] += a;
                            sumDyCentred[ch - c0] += b;
                        }
                }
                var a1 = scratch.AsSpan(2 * cc, cc);
                var a2 = scratch.AsSpan(3 * cc, cc);
                var a0 = scratch.AsSpan(4 * cc, cc);
                for (int ch = c0; ch < c1; ch++)
                {
                    T invStd = saveInvStd[ch];
                    T sumDyXhat = sumDyCentred[ch - c0] * invStd;
                    if (dgamma is not null) dgamma[ch] = sumDyXhat;
                    if (dbeta is not null) dbeta[ch] = sumDy[ch - c0];
                    T m = T.CreateTruncating(count);
                    T k = (gamma is null ? T.One : gamma[ch]) * invStd / m;
                    // dx = k·(m·dy − Σdy − (x − μ)·s·Σdy·x̂) = (k·m)·dy + (−k·s·Σdy·x̂)·(x − μ) − k·Σdy
                    (a1[ch - c0], a2[ch - c0], a0[ch - c0]) = (k * m, -k * invStd * sumDyXhat, -k * sumDy[ch - c0]);
                }
                if (narrow)
                {
                    T[] a1Lanes = Spread(a1, spatial), a2Lanes = Spread(a2, spatial), a0Lanes = Spread(a0, spatial);
                    for (int i = 0; i < n; i++)
                    {
                        int off = (i * c + c0) * spatial;
                        Combine(dx.AsSpan(off, run), dy.AsSpan(off, run), YSlice(y, off, run), slope, x.AsSpan(off, run),
                            new Lanes(a1Lanes), new Lanes(a2Lanes), new Lanes(meanLanes!), new Lanes(a0Lanes));
                    }
                    ArrayPool<T>.Shared.Return(a1Lanes);
                    ArrayPool<T>.Shared.Return(a2Lanes);
                    ArrayPool<T>.Shared.Return(a0Lanes);
                    ArrayPool<T>.Shared.Return(meanLanes!);
                }
                else
                {
                    for (int i = 0; i < n; i++)
                        for (int ch = c0; ch < c1; ch++)
                        {
                            int off = (i * c + ch) * spatial;
                            Combine(dx.AsSpan(off, spatial), dy.AsSpan(off, spatial), YSlice(y, off, spatial), slope, x.AsSpan(off, spatial),
                                new Uniform(a1[ch - c0]), new Uniform(a2[ch - c0]), new Uniform(saveMean[ch]), new Uniform(a0[ch - c0]));
                        }
                }
                ArrayPool<T>.Shared.Return(scratch);
            });
        }

        private static ReadOnlySpan<T> YSlice(T[]? y, int offset, int length) => y is null ? default : y.AsSpan(offset, length);

        public static void BackwardInference(T[] dx, T[]? dgamma, T[]? dbeta, T[] dy, T[] x, T[] runningMean, T[] runningVar, T[]? gamma, int n, int c, int spatial, double eps)
        {
            Parallelism.ForEach(c, (long)n * spatial * 2, ch =>
            {
                T invStd = T.One / T.Sqrt(runningVar[ch] + T.CreateTruncating(eps));
                T scale = gamma is null ? invStd : gamma[ch] * invStd;
                T sumDy = T.Zero, sumDyXhat = T.Zero;
                for (int i = 0; i < n; i++)
                {
                    int off = (i * c + ch) * spatial;
                    for (int s = 0; s < spatial; s++)
                    {
                        T g = dy[off + s];
                        sumDy += g;
                        sumDyXhat += g * (x[off + s] - runningMean[ch]) * invStd;
                        dx[off + s] = g * scale;
                    }
                }
                if (dgamma is not null) dgamma[ch] = sumDyXhat;
                if (dbeta is not null) dbeta[ch] = sumDy;
            });
        }
    }
}

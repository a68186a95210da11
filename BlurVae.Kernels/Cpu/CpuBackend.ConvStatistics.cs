using System.Buffers;
using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// The batch statistics a convolution gathers for the BatchNorm after it (IBackend.Conv2dForward's and
// Conv2dBackwardInput's `statistics`, [C, 2]: mean and Σ (v − mean)² per output channel over N·OH·OW). Each path of
// CpuBackend.Conv.cs / CpuBackend.ConvPhased.cs makes one call per completed part of the output (a chunk of images,
// or a chunk × phase) while that part is still in cache: the part's own two-pass statistics (mean, then centred
// squares: accurate in float32) go to a slot of their own, so the parts may finish on any thread in any order. Finish
// merges the slots in part order by Chan et al.'s pairwise update — the rule of kernels/batchnorm.cuh — so the result
// does not depend on the thread count. The BatchNorm then reads x once (normalise and activate) instead of three times.
public sealed partial class CpuBackend
{
    private static partial class Conv<T>
    {
        // The statistics of a path without chunks (DirectConv, the whole-batch GEMM): the written output as one part,
        // read once more; bias as in OutputStatistics.Finish.
        private static void WholeOutputStatistics(T[]? statistics, T[] y, int n, int c, int spatial, T[]? bias = null)
        {
            using var stats = OutputStatistics.For(statistics, 1, c);
            if (stats is null) return;
            stats.AddAll(y, n, spatial);
            stats.Finish(statistics!, bias);
        }

        private sealed class OutputStatistics : IDisposable
        {
            private readonly T[] _slots; // [parts][channels][2]: each part's (mean, centred sum of squares) per channel
            private readonly long[] _counts; // values per channel in each part (0: the part is empty, skipped)
            private readonly int _parts, _channels;

            private OutputStatistics(int parts, int channels)
            {
                _parts = parts;
                _channels = channels;
                _slots = ArrayPool<T>.Shared.Rent(Math.Max(1, parts * channels * 2));
                _counts = new long[parts];
            }

            /// <summary>Statistics of <paramref name="parts"/> parts over <paramref name="channels"/> channels; null when none are wanted.</summary>
            public static OutputStatistics? For(T[]? statistics, int parts, int channels) =>
                statistics is null ? null : new OutputStatistics(parts, channels);

            /// <summary>Part <paramref name="part"/> = images n0 … n0+nb−1 of a [N, C, spatial] tensor, channels c0 … c1−1.</summary>
            public void AddImages(int part, T[] y, int n0, int nb, int spatial, int c0 = 0, int c1 = -1)
            {
                if (c1 < 0) c1 = _channels;
                _counts[part] = (long)nb * spatial;
                if (nb * spatial == 0) return;
                int cc = c1 - c0;
                T[] scratch = ArrayPool<T>.Shared.Rent(3 * cc);
                var means = scratch.AsSpan(0, cc);
                var sqs = scratch.AsSpan(cc, cc);
                BatchNorm<T>.Statistics(means, sqs, scratch.AsSpan(2 * cc, cc), y, n0, nb, _channels, spatial, c0, c1);
                for (int ch = c0; ch < c1; ch++) Record(part, ch, means[ch - c0], sqs[ch - c0]);
                ArrayPool<T>.Shared.Return(scratch);
            }

            /// <summary>Part <paramref name="part"/> = a channel-major block, channel ch's <paramref name="columns"/> values at src[off + ch·ld …] (a GEMM's output before its scatter), channels c0 … c1−1.</summary>
            public void AddChannelMajor(int part, T[] src, int off, int ld, int columns, int c0 = 0, int c1 = -1)
            {
                if (c1 < 0) c1 = _channels;
                _counts[part] = columns;
                if (columns == 0) return;
                for (int ch = c0; ch < c1; ch++)
                {
                    var run = src.AsSpan(off + ch * ld, columns);
                    T mean = TensorPrimitives.Sum<T>(run) / T.CreateTruncating(columns);
                    Record(part, ch, mean, BatchNorm<T>.SumSquaredDeviations(run, mean));
                }
            }

            /// <summary>The whole of a [N, C, spatial] output as one part, its channels split over the cores (the paths with no chunks).</summary>
            public void AddAll(T[] y, int n, int spatial) =>
                Parallelism.ForRange(_channels, Math.Max(1, (int)Math.Min(_channels, 32_768L / Math.Max(1L, 2L * n * spatial))),
                    (c0, c1) => AddImages(0, y, 0, n, spatial, c0, c1));

            private void Record(int part, int ch, T mean, T sq)
            {
                int at = (part * _channels + ch) * 2;
                _slots[at] = mean;
                _slots[at + 1] = sq;
            }

            /// <summary>
            /// statistics[ch] = the parts merged in part order; <paramref name="bias"/>, when the parts saw the output
            /// before its bias was added, shifts each mean (the centred squares do not change).
            /// </summary>
            public void Finish(T[] statistics, T[]? bias)
            {
                for (int ch = 0; ch < _channels; ch++)
                {
                    T mean = T.Zero, sq = T.Zero;
                    long seen = 0;
                    for (int part = 0; part < _parts; part++)
                    {
                        long len = _counts[part];
                        if (len == 0) continue;
                        int at = (part * _channels + ch) * 2;
                        long merged = seen + len;
                        T delta = _slots[at] - mean;
                        mean += delta * (T.CreateTruncating(len) / T.CreateTruncating(merged));
                        sq += _slots[at + 1] + delta * delta * (T.CreateTruncating(seen) * T.CreateTruncating(len) / T.CreateTruncating(merged));
                        seen = merged;
                    }
                    statistics[2 * ch] = bias is null ? mean : mean + bias[ch];
                    statistics[2 * ch + 1] = sq;
                }
            }

            public void Dispose() => ArrayPool<T>.Shared.Return(_slots);
        }
    }
}

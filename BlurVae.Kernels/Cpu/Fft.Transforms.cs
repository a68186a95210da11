namespace BlurVae.Kernels.Cpu;

// The per-type transform drivers: grouping images into lanes, the 2-D real passes, per-thread scratch.
public static partial class Fft
{
    /// <summary>Transforms for one element type; only instantiated for float and double (types Vector&lt;T&gt; supports).</summary>
    private static partial class Engine<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static readonly bool IsNative = typeof(T) == typeof(float) || typeof(T) == typeof(double);

        /// <summary>Aim for about this many lanes per pass: enough vectors to amortise the per-butterfly twiddle
        /// loads, small enough that a 64-row pass (h·lanes·4 arrays) stays in L2.</summary>
        private const int TargetLanes = 64;

        [ThreadStatic] private static Workspace? t_workspace;

        private static int Vc => Vector<T>.Count;

        private static int PadLanes(int lanes)
        {
            int l = (lanes + Vc - 1) / Vc * Vc;
            // A large power-of-two lane stride puts the r inputs of every butterfly (len/r elements apart) in the same
            // L1 cache set; one extra vector spreads them (about 30% faster at 256×256, no gain at 64×64).
            return l * Unsafe.SizeOf<T>() >= 512 && BitOperations.IsPow2(l / Vc) ? l + Vc : l;
        }

        private static Workspace Scratch => t_workspace ??= new Workspace();

        /// <summary>Per-thread scratch above this many elements is dropped after use instead of kept for the next
        /// call, so one huge transform does not pin hundreds of MB on every pool thread.</summary>
        private const long RetainLimit = 8 << 20;

        private static void ReleaseIfHuge(Workspace ws)
        {
            if (ws.Elements > RetainLimit) t_workspace = null;
        }

        /// <summary>Images per group: put several small images side by side so a pass has ~TargetLanes lanes, but
        /// no more than ~1M points per group (long 1-row images would otherwise get huge scratch).</summary>
        private static int GroupSize(int batch, int lanesPerImage, long pointsPerImage) =>
            (int)Math.Clamp(Math.Min(TargetLanes / lanesPerImage, (1 << 20) / pointsPerImage), 1, batch);

        private static void ForGroups(int groups, long totalPoints, Action<int> body)
        {
            // Parallelism.MaxThreads is the backend's core budget (CpuBackend.Threads), shared with the other kernels.
            int threads = Math.Min(Parallelism.MaxThreads, groups);
            if (threads <= 1 || totalPoints < ParallelThreshold)
            {
                for (int i = 0; i < groups; i++) body(i);
                return;
            }
            // On the same spinning helper threads as every other CPU loop (Parallelism), not Parallel.For's pool tasks;
            // each group is costed at the whole transform's points so that Parallelism's own threshold never runs it inline.
            Parallelism.ForEach(groups, Math.Max(ParallelThreshold, totalPoints), body);
        }

        public static void Rfft2(Span<T> y, ReadOnlySpan<T> x, int batch, int h, int w)
        {
            Plan rows = Plan.Get(w), cols = Plan.Get(h);
            int g = GroupSize(batch, Math.Max((h + 1) / 2, w / 2 + 1), (long)h * w);
            ForBatchGroups(y, x, batch, g, h * w, h * (w / 2 + 1) * 2, h * w,
                (dst, src, count, ws) => ForwardGroup(dst, src, count, h, w, rows, cols, ws));
        }

        public static void Irfft2(Span<T> x, ReadOnlySpan<T> c, int batch, int h, int w)
        {
            Plan rows = Plan.Get(w), cols = Plan.Get(h);
            int g = GroupSize(batch, Math.Max((h + 1) / 2, w / 2 + 1), (long)h * w);
            ForBatchGroups(x, c, batch, g, h * (w / 2 + 1) * 2, h * w, h * w,
                (dst, src, count, ws) => InverseGroup(dst, src, count, h, w, rows, cols, ws));
        }

        public static void Complex1D(Span<T> y, ReadOnlySpan<T> x, int batch, int n, bool inverse)
        {
            Plan plan = Plan.Get(n);
            ForBatchGroups(y, x, batch, GroupSize(batch, 1, n), n * 2, n * 2, n,
                (dst, src, count, ws) => ComplexGroup(dst, src, count, n, inverse, plan, ws));
        }

        /// <summary>Transforms <paramref name="count"/> consecutive items of a batch from src into dst with a workspace.</summary>
        private delegate void GroupTransform(Span<T> dst, ReadOnlySpan<T> src, int count, Workspace ws);

        /// <summary>
        /// Runs a batch as groups of <paramref name="g"/> items (the last one shorter), in parallel where the batch is
        /// large enough: each group on its slice of src (srcLen per item) and dst (dstLen per item), with this thread's
        /// workspace.
        /// </summary>
        private static unsafe void ForBatchGroups(Span<T> dst, ReadOnlySpan<T> src, int batch, int g, int srcLen, int dstLen, long pointsPerItem, GroupTransform transform)
        {
            int groups = (batch + g - 1) / g;
            fixed (T* ps = src)
            fixed (T* pd = dst)
            {
                // Spans cannot be captured by the parallel body; the pinned addresses can.
                nint addressSrc = (nint)ps, addressDst = (nint)pd;
                ForGroups(groups, batch * pointsPerItem, gi =>
                {
                    int b0 = gi * g, count = Math.Min(g, batch - b0);
                    Workspace ws = Scratch;
                    transform(new Span<T>((T*)addressDst + (long)b0 * dstLen, count * dstLen),
                              new ReadOnlySpan<T>((T*)addressSrc + (long)b0 * srcLen, count * srcLen), count, ws);
                    ReleaseIfHuge(ws);
                });
            }
        }

        /// <summary>Per-thread scratch, grown on demand and kept for the next call (no per-call allocation).</summary>
        private sealed class Workspace
        {
            public T[] Ar = [], Ai = [], Awr = [], Awi = [], Br = [], Bi = [], Bwr = [], Bwi = [], Tar = [], Tai = [], Tbr = [], Tbi = [];

            public long Elements =>
                (long)Ar.Length + Ai.Length + Awr.Length + Awi.Length + Br.Length + Bi.Length + Bwr.Length + Bwi.Length +
                Tar.Length + Tai.Length + Tbr.Length + Tbi.Length;
        }

        private static Span<T> Grow(ref T[] a, int length)
        {
            if (a.Length < length) a = new T[length];
            return a.AsSpan(0, length);
        }

        /// <summary>
        /// The sizes and scratch of one group's 2-D real transform, forward and inverse alike: hh = ⌈h/2⌉ row pairs (row
        /// j with row j + hh as one complex row; hl = ⌊h/2⌋ second rows), wc = w/2 + 1 half-spectrum columns, l1 and l2
        /// padded lane counts of the row pass (A: [w, l1] and its work arrays) and of the column pass (B: [h, l2]); Ta and
        /// Tb hold the two rows' half spectra [wc, l1] between the passes.
        /// </summary>
        private readonly ref struct RealGroup
        {
            public readonly int Hh, Hl, Wc, L1, L2;
            public readonly Span<T> Ar, Ai, Awr, Awi, Br, Bi, Bwr, Bwi, Tar, Tai, Tbr, Tbi;

            public RealGroup(Workspace ws, int g, int h, int w, Plan rows, Plan cols)
            {
                Hh = (h + 1) / 2; Hl = h / 2; Wc = w / 2 + 1;
                L1 = PadLanes(g * Hh); L2 = PadLanes(g * Wc);
                Ar = Grow(ref ws.Ar, w * L1); Ai = Grow(ref ws.Ai, w * L1);
                Awr = Grow(ref ws.Awr, rows.WorkLength(L1)); Awi = Grow(ref ws.Awi, rows.WorkLength(L1));
                Br = Grow(ref ws.Br, h * L2); Bi = Grow(ref ws.Bi, h * L2);
                Bwr = Grow(ref ws.Bwr, cols.WorkLength(L2)); Bwi = Grow(ref ws.Bwi, cols.WorkLength(L2));
                Tar = Grow(ref ws.Tar, Wc * L1); Tai = Grow(ref ws.Tai, Wc * L1);
                Tbr = Grow(ref ws.Tbr, Wc * L1); Tbi = Grow(ref ws.Tbi, Wc * L1);
            }
        }

        /// <summary>rfft2 of <paramref name="g"/> consecutive images.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void ForwardGroup(Span<T> y, ReadOnlySpan<T> x, int g, int h, int w, Plan rows, Plan cols, Workspace ws)
        {
            var buf = new RealGroup(ws, g, h, w, rows, cols);
            int hh = buf.Hh, hl = buf.Hl, wc = buf.Wc, l1 = buf.L1, l2 = buf.L2;

            // Row pass input: lane (image gi, pair j) holds row j as real part and row j + hh as imaginary part,
            // so one complex FFT transforms two real rows.
            for (int gi = 0; gi < g; gi++)
            {
                ReadOnlySpan<T> img = x.Slice(gi * h * w, h * w);
                Transpose(img, w, buf.Ar.Slice(gi * hh), l1, hh, w);
                if (hl > 0) Transpose(img.Slice(hh * w), w, buf.Ai.Slice(gi * hh), l1, hl, w);
                if (hl < hh) ZeroLane(buf.Ai, w, gi * hh + hl, l1);
            }
            ZeroPadLanes(buf.Ar, buf.Ai, w, g * hh, l1);

            bool inA = rows.Forward(buf.Ar, buf.Ai, buf.Awr, buf.Awi, l1);
            Span<T> zr = inA ? buf.Ar : buf.Awr, zi = inA ? buf.Ai : buf.Awi;

            // Separate the two real rows' spectra: with Z = Xa + i·Xb and Xa, Xb Hermitian,
            // Xa[k] = (Z[k] + conj Z[-k]) / 2 and Xb[k] = (Z[k] − conj Z[-k]) / (2i). Vectorised over lanes here,
            // transposed into the column-pass layout below.
            var half = new Vector<T>(T.CreateTruncating(0.5));
            int vl1 = l1 / Vc;
            ref Vector<T> vzr = ref AsVectors(zr), vzi = ref AsVectors(zi);
            ref Vector<T> vtar = ref AsVectors(buf.Tar), vtai = ref AsVectors(buf.Tai), vtbr = ref AsVectors(buf.Tbr), vtbi = ref AsVectors(buf.Tbi);
            for (int k = 0; k < wc; k++)
            {
                int p0 = k * vl1, q0 = (k == 0 ? 0 : w - k) * vl1;
                for (int v = 0; v < vl1; v++)
                {
                    Vector<T> pr = Unsafe.Add(ref vzr, p0 + v), pi = Unsafe.Add(ref vzi, p0 + v);
                    Vector<T> qr = Unsafe.Add(ref vzr, q0 + v), qi = Unsafe.Add(ref vzi, q0 + v);
                    Unsafe.Add(ref vtar, p0 + v) = (pr + qr) * half;
                    Unsafe.Add(ref vtai, p0 + v) = (pi - qi) * half;
                    Unsafe.Add(ref vtbr, p0 + v) = (pi + qi) * half;
                    Unsafe.Add(ref vtbi, p0 + v) = (qr - pr) * half;
                }
            }
            for (int gi = 0; gi < g; gi++)
            {
                // Column-pass layout: element = image row m, lane = (image gi, column k).
                Transpose(buf.Tar.Slice(gi * hh), l1, buf.Br.Slice(gi * wc), l2, wc, hh);
                Transpose(buf.Tai.Slice(gi * hh), l1, buf.Bi.Slice(gi * wc), l2, wc, hh);
                if (hl == 0) continue; // h == 1: no second row
                Transpose(buf.Tbr.Slice(gi * hh), l1, buf.Br.Slice(hh * l2 + gi * wc), l2, wc, hl);
                Transpose(buf.Tbi.Slice(gi * hh), l1, buf.Bi.Slice(hh * l2 + gi * wc), l2, wc, hl);
            }
            ZeroPadLanes(buf.Br, buf.Bi, h, g * wc, l2);

            bool inB = cols.Forward(buf.Br, buf.Bi, buf.Bwr, buf.Bwi, l2);
            ReadOnlySpan<T> cr = inB ? buf.Br : buf.Bwr, ci = inB ? buf.Bi : buf.Bwi;
            for (int gi = 0; gi < g; gi++)
            {
                Span<T> dst = y.Slice(gi * h * wc * 2, h * wc * 2);
                for (int k1 = 0; k1 < h; k1++)
                    Interleave(dst.Slice(k1 * wc * 2, wc * 2), cr.Slice(k1 * l2 + gi * wc, wc), ci.Slice(k1 * l2 + gi * wc, wc));
            }
        }

        /// <summary>irfft2 (unnormalised) of <paramref name="g"/> consecutive spectra.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void InverseGroup(Span<T> x, ReadOnlySpan<T> c, int g, int h, int w, Plan rows, Plan cols, Workspace ws)
        {
            var buf = new RealGroup(ws, g, h, w, rows, cols);
            int hh = buf.Hh, hl = buf.Hl, wc = buf.Wc, l1 = buf.L1, l2 = buf.L2;

            for (int gi = 0; gi < g; gi++)
            {
                ReadOnlySpan<T> src = c.Slice(gi * h * wc * 2, h * wc * 2);
                for (int k1 = 0; k1 < h; k1++)
                    Deinterleave(buf.Br.Slice(k1 * l2 + gi * wc, wc), buf.Bi.Slice(k1 * l2 + gi * wc, wc), src.Slice(k1 * wc * 2, wc * 2));
            }
            ZeroPadLanes(buf.Br, buf.Bi, h, g * wc, l2);

            // Inverse column transforms (over h): swapping the real and imaginary arrays turns the forward plan into
            // the inverse one.
            bool inB = cols.Forward(buf.Bi, buf.Br, buf.Bwi, buf.Bwr, l2);
            ReadOnlySpan<T> yr = inB ? buf.Br : buf.Bwr, yi = inB ? buf.Bi : buf.Bwi;

            // Back to the row-pass layout: Ya = row j, Yb = row j + hh of each pair, element = column k.
            for (int gi = 0; gi < g; gi++)
            {
                Transpose(yr.Slice(gi * wc), l2, buf.Tar.Slice(gi * hh), l1, hh, wc);
                Transpose(yi.Slice(gi * wc), l2, buf.Tai.Slice(gi * hh), l1, hh, wc);
                if (hl > 0)
                {
                    Transpose(yr.Slice(hh * l2 + gi * wc), l2, buf.Tbr.Slice(gi * hh), l1, hl, wc);
                    Transpose(yi.Slice(hh * l2 + gi * wc), l2, buf.Tbi.Slice(gi * hh), l1, hl, wc);
                }
                if (hl < hh)
                {
                    ZeroLane(buf.Tbr, wc, gi * hh + hl, l1);
                    ZeroLane(buf.Tbi, wc, gi * hh + hl, l1);
                }
            }
            ZeroPadLanes(buf.Tar, buf.Tai, wc, g * hh, l1);
            ZeroPadLanes(buf.Tbr, buf.Tbi, wc, g * hh, l1);

            // Rebuild full Hermitian rows and pack two of them into one complex row: Z = Xa + i·Xb, whose inverse
            // transform has the two real rows as its real and imaginary parts. Dropping the imaginary part of the
            // self-conjugate bins (0 and w/2) is exactly irfft's treatment.
            int vl1 = l1 / Vc;
            ref Vector<T> var_ = ref AsVectors(buf.Ar), vai = ref AsVectors(buf.Ai);
            ref Vector<T> vtar = ref AsVectors(buf.Tar), vtai = ref AsVectors(buf.Tai), vtbr = ref AsVectors(buf.Tbr), vtbi = ref AsVectors(buf.Tbi);
            for (int k = 0; k < wc; k++)
            {
                int p0 = k * vl1;
                if (k == 0 || 2 * k == w)
                {
                    for (int v = 0; v < vl1; v++)
                    {
                        Unsafe.Add(ref var_, p0 + v) = Unsafe.Add(ref vtar, p0 + v);
                        Unsafe.Add(ref vai, p0 + v) = Unsafe.Add(ref vtbr, p0 + v);
                    }
                    continue;
                }
                int q0 = (w - k) * vl1;
                for (int v = 0; v < vl1; v++)
                {
                    Vector<T> par = Unsafe.Add(ref vtar, p0 + v), pai = Unsafe.Add(ref vtai, p0 + v);
                    Vector<T> pbr = Unsafe.Add(ref vtbr, p0 + v), pbi = Unsafe.Add(ref vtbi, p0 + v);
                    Unsafe.Add(ref var_, p0 + v) = par - pbi;
                    Unsafe.Add(ref vai, p0 + v) = pai + pbr;
                    Unsafe.Add(ref var_, q0 + v) = par + pbi;
                    Unsafe.Add(ref vai, q0 + v) = pbr - pai;
                }
            }

            bool inA = rows.Forward(buf.Ai, buf.Ar, buf.Awi, buf.Awr, l1);
            ReadOnlySpan<T> zr = inA ? buf.Ar : buf.Awr, zi = inA ? buf.Ai : buf.Awi;
            for (int gi = 0; gi < g; gi++)
            {
                Span<T> img = x.Slice(gi * h * w, h * w);
                Transpose(zr.Slice(gi * hh), l1, img, w, w, hh);
                if (hl > 0) Transpose(zi.Slice(gi * hh), l1, img.Slice(hh * w), w, w, hl);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void ComplexGroup(Span<T> y, ReadOnlySpan<T> x, int g, int n, bool inverse, Plan plan, Workspace ws)
        {
            int l = PadLanes(g);
            Span<T> ar = Grow(ref ws.Ar, n * l), ai = Grow(ref ws.Ai, n * l);
            Span<T> awr = Grow(ref ws.Awr, plan.WorkLength(l)), awi = Grow(ref ws.Awi, plan.WorkLength(l));
            Span<T> tr = Grow(ref ws.Tar, n * l), ti = Grow(ref ws.Tai, n * l);
            // Deinterleave each transform into a row of (tr, ti), then transpose rows into lanes.
            for (int gi = 0; gi < g; gi++)
                Deinterleave(tr.Slice(gi * n, n), ti.Slice(gi * n, n), x.Slice(gi * n * 2, n * 2));
            Transpose(tr, n, ar, l, g, n);
            Transpose(ti, n, ai, l, g, n);
            ZeroPadLanes(ar, ai, n, g, l);
            bool inA = inverse ? plan.Forward(ai, ar, awi, awr, l) : plan.Forward(ar, ai, awr, awi, l);
            ReadOnlySpan<T> zr = inA ? ar : awr, zi = inA ? ai : awi;
            Transpose(zr, l, tr, n, n, g);
            Transpose(zi, l, ti, n, n, g);
            for (int gi = 0; gi < g; gi++)
                Interleave(y.Slice(gi * n * 2, n * 2), tr.Slice(gi * n, n), ti.Slice(gi * n, n));
        }
    }
}

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
            Parallel.For(0, groups, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
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

        /// <summary>rfft2 of <paramref name="g"/> consecutive images.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void ForwardGroup(Span<T> y, ReadOnlySpan<T> x, int g, int h, int w, Plan rows, Plan cols, Workspace ws)
        {
            int hh = (h + 1) / 2, hl = h / 2, wc = w / 2 + 1;
            int l1 = PadLanes(g * hh), l2 = PadLanes(g * wc);
            Span<T> ar = Grow(ref ws.Ar, w * l1), ai = Grow(ref ws.Ai, w * l1);
            Span<T> awr = Grow(ref ws.Awr, rows.WorkLength(l1)), awi = Grow(ref ws.Awi, rows.WorkLength(l1));
            Span<T> br = Grow(ref ws.Br, h * l2), bi = Grow(ref ws.Bi, h * l2);
            Span<T> bwr = Grow(ref ws.Bwr, cols.WorkLength(l2)), bwi = Grow(ref ws.Bwi, cols.WorkLength(l2));
            Span<T> tar = Grow(ref ws.Tar, wc * l1), tai = Grow(ref ws.Tai, wc * l1);
            Span<T> tbr = Grow(ref ws.Tbr, wc * l1), tbi = Grow(ref ws.Tbi, wc * l1);

            // Row pass input: lane (image gi, pair j) holds row j as real part and row j + hh as imaginary part,
            // so one complex FFT transforms two real rows.
            for (int gi = 0; gi < g; gi++)
            {
                ReadOnlySpan<T> img = x.Slice(gi * h * w, h * w);
                Transpose(img, w, ar.Slice(gi * hh), l1, hh, w);
                if (hl > 0) Transpose(img.Slice(hh * w), w, ai.Slice(gi * hh), l1, hl, w);
                if (hl < hh) ZeroLane(ai, w, gi * hh + hl, l1);
            }
            ZeroPadLanes(ar, ai, w, g * hh, l1);

            bool inA = rows.Forward(ar, ai, awr, awi, l1);
            Span<T> zr = inA ? ar : awr, zi = inA ? ai : awi;

            // Separate the two real rows' spectra: with Z = Xa + i·Xb and Xa, Xb Hermitian,
            // Xa[k] = (Z[k] + conj Z[-k]) / 2 and Xb[k] = (Z[k] − conj Z[-k]) / (2i). Vectorised over lanes here,
            // transposed into the column-pass layout below.
            var half = new Vector<T>(T.CreateTruncating(0.5));
            int vl1 = l1 / Vc;
            ref Vector<T> vzr = ref AsVectors(zr), vzi = ref AsVectors(zi);
            ref Vector<T> vtar = ref AsVectors(tar), vtai = ref AsVectors(tai), vtbr = ref AsVectors(tbr), vtbi = ref AsVectors(tbi);
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
                Transpose(tar.Slice(gi * hh), l1, br.Slice(gi * wc), l2, wc, hh);
                Transpose(tai.Slice(gi * hh), l1, bi.Slice(gi * wc), l2, wc, hh);
                if (hl == 0) continue; // h == 1: no second row
                Transpose(tbr.Slice(gi * hh), l1, br.Slice(hh * l2 + gi * wc), l2, wc, hl);
                Transpose(tbi.Slice(gi * hh), l1, bi.Slice(hh * l2 + gi * wc), l2, wc, hl);
            }
            ZeroPadLanes(br, bi, h, g * wc, l2);

            bool inB = cols.Forward(br, bi, bwr, bwi, l2);
            ReadOnlySpan<T> cr = inB ? br : bwr, ci = inB ? bi : bwi;
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
            int hh = (h + 1) / 2, hl = h / 2, wc = w / 2 + 1;
            int l1 = PadLanes(g * hh), l2 = PadLanes(g * wc);
            Span<T> ar = Grow(ref ws.Ar, w * l1), ai = Grow(ref ws.Ai, w * l1);
            Span<T> awr = Grow(ref ws.Awr, rows.WorkLength(l1)), awi = Grow(ref ws.Awi, rows.WorkLength(l1));
            Span<T> br = Grow(ref ws.Br, h * l2), bi = Grow(ref ws.Bi, h * l2);
            Span<T> bwr = Grow(ref ws.Bwr, cols.WorkLength(l2)), bwi = Grow(ref ws.Bwi, cols.WorkLength(l2));
            Span<T> tar = Grow(ref ws.Tar, wc * l1), tai = Grow(ref ws.Tai, wc * l1);
            Span<T> tbr = Grow(ref ws.Tbr, wc * l1), tbi = Grow(ref ws.Tbi, wc * l1);

            for (int gi = 0; gi < g; gi++)
            {
                ReadOnlySpan<T> src = c.Slice(gi * h * wc * 2, h * wc * 2);
                for (int k1 = 0; k1 < h; k1++)
                    Deinterleave(br.Slice(k1 * l2 + gi * wc, wc), bi.Slice(k1 * l2 + gi * wc, wc), src.Slice(k1 * wc * 2, wc * 2));
            }
            ZeroPadLanes(br, bi, h, g * wc, l2);

            // Inverse column transforms (over h): swapping the real and imaginary arrays turns the forward plan into
            // the inverse one.
            bool inB = cols.Forward(bi, br, bwi, bwr, l2);
            ReadOnlySpan<T> yr = inB ? br : bwr, yi = inB ? bi : bwi;

            // Back to the row-pass layout: Ya = row j, Yb = row j + hh of each pair, element = column k.
            for (int gi = 0; gi < g; gi++)
            {
                Transpose(yr.Slice(gi * wc), l2, tar.Slice(gi * hh), l1, hh, wc);
                Transpose(yi.Slice(gi * wc), l2, tai.Slice(gi * hh), l1, hh, wc);
                if (hl > 0)
                {
                    Transpose(yr.Slice(hh * l2 + gi * wc), l2, tbr.Slice(gi * hh), l1, hl, wc);
                    Transpose(yi.Slice(hh * l2 + gi * wc), l2, tbi.Slice(gi * hh), l1, hl, wc);
                }
                if (hl < hh)
                {
                    ZeroLane(tbr, wc, gi * hh + hl, l1);
                    ZeroLane(tbi, wc, gi * hh + hl, l1);
                }
            }
            ZeroPadLanes(tar, tai, wc, g * hh, l1);
            ZeroPadLanes(tbr, tbi, wc, g * hh, l1);

            // Rebuild full Hermitian rows and pack two of them into one complex row: Z = Xa + i·Xb, whose inverse
            // transform has the two real rows as its real and imaginary parts. Dropping the imaginary part of the
            // self-conjugate bins (0 and w/2) is exactly irfft's treatment.
            int vl1 = l1 / Vc;
            ref Vector<T> var_ = ref AsVectors(ar), vai = ref AsVectors(ai);
            ref Vector<T> vtar = ref AsVectors(tar), vtai = ref AsVectors(tai), vtbr = ref AsVectors(tbr), vtbi = ref AsVectors(tbi);
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

            bool inA = rows.Forward(ai, ar, awi, awr, l1);
            ReadOnlySpan<T> zr = inA ? ar : awr, zi = inA ? ai : awi;
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

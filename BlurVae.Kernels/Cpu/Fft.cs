using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace BlurVae.Kernels.Cpu;

/// <summary>
/// CPU fast Fourier transforms: batched 2-D real transforms (torch.fft.rfft2 / irfft2 layout, unnormalised) and a
/// batched 1-D complex transform, for any sizes.
/// </summary>
/// <remarks>
/// Design. Every transform is run "across lanes": many independent 1-D transforms of the same length are stored
/// split (separate real and imaginary arrays) and interleaved element-major, <c>re[k * lanes + lane]</c>, so each
/// butterfly operates on whole <see cref="Vector{T}"/>s of independent lanes. This needs no shuffles, vectorises
/// every radix (including odd ones) the same way and keeps the access pattern unit-stride.
/// The 1-D engine is a Stockham autosort (no bit reversal) mixed-radix Cooley–Tukey with radix 8/4/2, 3, and a generic
/// odd-prime butterfly for primes up to <see cref="MaxRadix"/>; lengths with a larger prime factor use Bluestein's
/// chirp-z algorithm over a power-of-two transform. Inverse transforms reuse the forward plan through the identity
/// IDFT(x) = swap(DFT(swap(x))), where swap exchanges real and imaginary parts — free in split storage.
/// The 2-D real transform packs two real rows into one complex row (row j as real part, row j + ⌈h/2⌉ as imaginary),
/// transforms rows over w, separates the two half spectra by Hermitian symmetry, then transforms the w/2+1 complex
/// columns over h. Several small images are put side by side in the lanes so short transforms still fill vectors.
/// Plans (radices and twiddles, computed in double, stored as T) are cached per length; scratch is per thread.
/// </remarks>
public static class Fft
{
    /// <summary>Largest prime handled by the direct odd-radix butterfly; lengths with larger prime factors use Bluestein.
    /// A radix-p butterfly costs about p/2 complex multiply-adds per point, Bluestein three power-of-two FFTs of
    /// 2–4× the length plus chirp products; measured (float, 64 lanes) they break even near p ≈ 90.</summary>
    private const int MaxRadix = 89;

    /// <summary>Below this many input points per call the batch runs on the calling thread: waking another core costs
    /// microseconds, comparable to transforming a few small images.</summary>
    private const long ParallelThreshold = 16_384;

    /// <summary>
    /// Batched 2-D real-to-complex DFT over the last two axes, unnormalised, forward sign e^{-2πi(k1·m/h + k2·n/w)}.
    /// </summary>
    /// <param name="y">Output, batch·h·(w/2+1)·2 reals: complex interleaved (re, im), row-major [batch, h, w/2+1] —
    /// the layout and values of torch.fft.rfft2(x, norm="backward") viewed as real. Must not overlap <paramref name="x"/>.</param>
    /// <param name="x">Input, batch·h·w reals, row-major [batch, h, w].</param>
    /// <param name="batch">Number of images (0 is a no-op).</param>
    /// <param name="h">Rows per image, ≥ 1.</param>
    /// <param name="w">Columns per image, ≥ 1.</param>
    public static void Rfft2<T>(Span<T> y, ReadOnlySpan<T> x, int batch, int h, int w)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckShape(batch, h, w);
        CheckLength(x.Length, (long)batch * h * w, nameof(x));
        CheckLength(y.Length, (long)batch * h * (w / 2 + 1) * 2, nameof(y));
        if (((ReadOnlySpan<T>)y).Overlaps(x)) throw new ArgumentException("The output must not overlap the input.", nameof(y));
        if (batch == 0) return;
        if (Engine<T>.IsNative)
        {
            Engine<T>.Rfft2(y, x, batch, h, w);
        }
        else
        {
            // Half, NFloat, ...: Vector<T> does not support them, so compute in double and round once at the end.
            var yd = new double[y.Length];
            Engine<double>.Rfft2(yd, ToDouble(x), batch, h, w);
            FromDouble(y, yd);
        }
    }

    /// <summary>
    /// Batched 2-D complex-to-real inverse DFT over the last two axes, unnormalised (no 1/(h·w)), sign e^{+2πi(...)}.
    /// Equals h·w·torch.fft.irfft2(c, s=(h, w), norm="backward"): the input is the non-redundant half of a Hermitian
    /// spectrum; after the inverse transform over h, the imaginary parts of the self-conjugate bins of the last axis
    /// (column 0, and column w/2 when w is even) are ignored, exactly as irfft does.
    /// </summary>
    /// <param name="x">Output, batch·h·w reals, row-major [batch, h, w]. Must not overlap <paramref name="c"/>.</param>
    /// <param name="c">Input, batch·h·(w/2+1)·2 reals, complex interleaved [batch, h, w/2+1]. Not modified.</param>
    /// <param name="batch">Number of images (0 is a no-op).</param>
    /// <param name="h">Rows per image, ≥ 1.</param>
    /// <param name="w">Columns per image (the real output width), ≥ 1.</param>
    public static void Irfft2<T>(Span<T> x, ReadOnlySpan<T> c, int batch, int h, int w)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckShape(batch, h, w);
        CheckLength(c.Length, (long)batch * h * (w / 2 + 1) * 2, nameof(c));
        CheckLength(x.Length, (long)batch * h * w, nameof(x));
        if (((ReadOnlySpan<T>)x).Overlaps(c)) throw new ArgumentException("The output must not overlap the input.", nameof(x));
        if (batch == 0) return;
        if (Engine<T>.IsNative)
        {
            Engine<T>.Irfft2(x, c, batch, h, w);
        }
        else
        {
            var xd = new double[x.Length];
            Engine<double>.Irfft2(xd, ToDouble(c), batch, h, w);
            FromDouble(x, xd);
        }
    }

    /// <summary>
    /// Batched 1-D complex DFT of length n, unnormalised. Forward sign e^{-2πi k·j/n}; <paramref name="inverse"/>
    /// uses e^{+2πi k·j/n} without the 1/n factor.
    /// </summary>
    /// <param name="y">Output, batch·n·2 reals, complex interleaved [batch, n]. May not overlap <paramref name="x"/>.</param>
    /// <param name="x">Input, batch·n·2 reals, complex interleaved [batch, n].</param>
    /// <param name="batch">Number of transforms (0 is a no-op).</param>
    /// <param name="n">Transform length, ≥ 1.</param>
    /// <param name="inverse">True for the inverse (conjugate) transform.</param>
    public static void Complex1D<T>(Span<T> y, ReadOnlySpan<T> x, int batch, int n, bool inverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckShape(batch, 1, n, nameof(n));
        CheckLength(x.Length, (long)batch * n * 2, nameof(x));
        CheckLength(y.Length, (long)batch * n * 2, nameof(y));
        if (((ReadOnlySpan<T>)y).Overlaps(x)) throw new ArgumentException("The output must not overlap the input.", nameof(y));
        if (batch == 0) return;
        if (Engine<T>.IsNative)
        {
            Engine<T>.Complex1D(y, x, batch, n, inverse);
        }
        else
        {
            var yd = new double[y.Length];
            Engine<double>.Complex1D(yd, ToDouble(x), batch, n, inverse);
            FromDouble(y, yd);
        }
    }

    private static void CheckShape(int batch, int h, int w, string wName = "w")
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be >= 0.");
        if (h < 1) throw new ArgumentOutOfRangeException(nameof(h), h, "h must be >= 1.");
        if (w < 1) throw new ArgumentOutOfRangeException(wName, w, $"{wName} must be >= 1.");
        // Scratch (padded lanes, Bluestein buffers up to 4× the length, two of them) is indexed with ints.
        if (8L * (h + 64) * (w + 64) > int.MaxValue)
            throw new ArgumentException("The transform is too large.", wName);
    }

    private static void CheckLength(int actual, long expected, string name)
    {
        if (expected > int.MaxValue) throw new ArgumentException("The tensor is too large for a span.", name);
        if (actual != expected)
            throw new ArgumentException($"{name} has length {actual}; expected {expected}.", name);
    }

    private static double[] ToDouble<T>(ReadOnlySpan<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = new double[s.Length];
        for (int i = 0; i < s.Length; i++) d[i] = double.CreateTruncating(s[i]);
        return d;
    }

    private static void FromDouble<T>(Span<T> dst, double[] src) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateTruncating(src[i]);
    }

    /// <summary>Transforms for one element type; only instantiated for float and double (types Vector&lt;T&gt; supports).</summary>
    private static class Engine<T> where T : unmanaged, IFloatingPointIeee754<T>
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

        public static unsafe void Rfft2(Span<T> y, ReadOnlySpan<T> x, int batch, int h, int w)
        {
            Plan rows = Plan.Get(w), cols = Plan.Get(h);
            int inLen = h * w, outLen = h * (w / 2 + 1) * 2;
            int g = GroupSize(batch, Math.Max((h + 1) / 2, w / 2 + 1), (long)h * w);
            int groups = (batch + g - 1) / g;
            fixed (T* px = x)
            fixed (T* py = y)
            {
                // Spans cannot be captured by the parallel body; the pinned addresses can.
                nint ax = (nint)px, ay = (nint)py;
                ForGroups(groups, (long)batch * inLen, gi =>
                {
                    int b0 = gi * g, count = Math.Min(g, batch - b0);
                    Workspace ws = Scratch;
                    ForwardGroup(
                        new Span<T>((T*)ay + (long)b0 * outLen, count * outLen),
                        new ReadOnlySpan<T>((T*)ax + (long)b0 * inLen, count * inLen),
                        count, h, w, rows, cols, ws);
                    ReleaseIfHuge(ws);
                });
            }
        }

        public static unsafe void Irfft2(Span<T> x, ReadOnlySpan<T> c, int batch, int h, int w)
        {
            Plan rows = Plan.Get(w), cols = Plan.Get(h);
            int outLen = h * w, inLen = h * (w / 2 + 1) * 2;
            int g = GroupSize(batch, Math.Max((h + 1) / 2, w / 2 + 1), (long)h * w);
            int groups = (batch + g - 1) / g;
            fixed (T* px = x)
            fixed (T* pc = c)
            {
                nint ax = (nint)px, ac = (nint)pc;
                ForGroups(groups, (long)batch * outLen, gi =>
                {
                    int b0 = gi * g, count = Math.Min(g, batch - b0);
                    Workspace ws = Scratch;
                    InverseGroup(
                        new Span<T>((T*)ax + (long)b0 * outLen, count * outLen),
                        new ReadOnlySpan<T>((T*)ac + (long)b0 * inLen, count * inLen),
                        count, h, w, rows, cols, ws);
                    ReleaseIfHuge(ws);
                });
            }
        }

        public static unsafe void Complex1D(Span<T> y, ReadOnlySpan<T> x, int batch, int n, bool inverse)
        {
            Plan plan = Plan.Get(n);
            int len = n * 2;
            int g = GroupSize(batch, 1, n);
            int groups = (batch + g - 1) / g;
            fixed (T* px = x)
            fixed (T* py = y)
            {
                nint ax = (nint)px, ay = (nint)py;
                ForGroups(groups, (long)batch * n, gi =>
                {
                    int b0 = gi * g, count = Math.Min(g, batch - b0);
                    Workspace ws = Scratch;
                    ComplexGroup(
                        new Span<T>((T*)ay + (long)b0 * len, count * len),
                        new ReadOnlySpan<T>((T*)ax + (long)b0 * len, count * len),
                        count, n, inverse, plan, ws);
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

        private static ref Vector<T> AsVectors(Span<T> s) => ref Unsafe.As<T, Vector<T>>(ref MemoryMarshal.GetReference(s));

        /// <summary>
        /// Zeroes lanes [used, lanes) of every element. The padding lanes are transformed along with the real ones;
        /// left stale they would grow by the transform gain on every call until they overflowed, and arithmetic on
        /// infinities, NaNs or subnormals can be far slower than on ordinary numbers.
        /// </summary>
        private static void ZeroPadLanes(Span<T> re, Span<T> im, int count, int used, int lanes)
        {
            if (used == lanes) return;
            for (int k = 0; k < count; k++)
            {
                re.Slice(k * lanes + used, lanes - used).Clear();
                im.Slice(k * lanes + used, lanes - used).Clear();
            }
        }

        private static void ZeroLane(Span<T> dst, int count, int lane, int lanes)
        {
            for (int n = 0; n < count; n++) dst[n * lanes + lane] = T.Zero;
        }

        /// <summary>dst[c·dstStride + r] = src[r·srcStride + c] for r &lt; rows, c &lt; cols.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Transpose(ReadOnlySpan<T> src, int srcStride, Span<T> dst, int dstStride, int rows, int cols)
        {
            if (rows == 0 || cols == 0) return;
            // The tile kernels index without bounds checks; these two checks cover every access.
            if (src.Length < (long)(rows - 1) * srcStride + cols || dst.Length < (long)(cols - 1) * dstStride + rows)
                throw new InvalidOperationException("Transpose out of range.");
            ref T s = ref MemoryMarshal.GetReference(src);
            ref T d = ref MemoryMarshal.GetReference(dst);
            // Tiles of b×b go through registers (8×8 floats or 4×4 doubles with AVX); edge tiles use masked loads and
            // stores so odd sizes stay vectorised. Scalar transposes cost a load and a store per element and were the
            // largest single cost of the 2-D transform.
            if (Avx.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
            {
                int b = typeof(T) == typeof(float) ? 8 : 4;
                // Walk the side with the longer rows sequentially: that is the caller's tensor, the one least likely to
                // be in cache, and writing it in scattered 32-byte pieces cost ~40% of the inverse at 256×256.
                bool dstMajor = dstStride > srcStride;
                int outer = dstMajor ? cols : rows, inner = dstMajor ? rows : cols;
                for (int o0 = 0; o0 < outer; o0 += b)
                {
                    for (int i0 = 0; i0 < inner; i0 += b)
                    {
                        int r0 = dstMajor ? i0 : o0, c0 = dstMajor ? o0 : i0;
                        int nr = Math.Min(b, rows - r0), nc = Math.Min(b, cols - c0);
                        ref T ts = ref Unsafe.Add(ref s, r0 * srcStride + c0);
                        ref T td = ref Unsafe.Add(ref d, c0 * dstStride + r0);
                        if (typeof(T) == typeof(float))
                        {
                            if ((nr & nc) == 8) Tile8x8(ref Unsafe.As<T, float>(ref ts), srcStride, ref Unsafe.As<T, float>(ref td), dstStride);
                            else Tile8x8Masked(ref Unsafe.As<T, float>(ref ts), srcStride, ref Unsafe.As<T, float>(ref td), dstStride, nr, nc);
                        }
                        else
                        {
                            if ((nr & nc) == 4) Tile4x4(ref Unsafe.As<T, double>(ref ts), srcStride, ref Unsafe.As<T, double>(ref td), dstStride);
                            else Tile4x4Masked(ref Unsafe.As<T, double>(ref ts), srcStride, ref Unsafe.As<T, double>(ref td), dstStride, nr, nc);
                        }
                    }
                }
                return;
            }
            // Without AVX: blocks of 8 rows so both sides stay in a few cache lines.
            for (int r0 = 0; r0 < rows; r0 += 8)
            {
                int r1 = Math.Min(rows, r0 + 8);
                for (int c = 0; c < cols; c++)
                    for (int r = r0; r < r1; r++)
                        Unsafe.Add(ref d, c * dstStride + r) = Unsafe.Add(ref s, r * srcStride + c);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> MaskF(int n) =>
            Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(n)).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> MaskD(int n) =>
            Vector256.LessThan(Vector256.Create(0L, 1L, 2L, 3L), Vector256.Create((long)n)).AsDouble();

        /// <summary>Edge tile: nr ≤ 8 source rows of nc ≤ 8 columns. Masked loads never touch memory past the valid
        /// columns (vmaskmov does not fault on masked-off elements); missing rows are zeros, and masked stores write
        /// only the nr valid lanes of each of the nc destination rows.</summary>
        private static unsafe void Tile8x8Masked(ref float s, int ss, ref float d, int ds, int nr, int nc)
        {
            Vector256<float> cm = MaskF(nc), rm = MaskF(nr);
            Span<Vector256<float>> r = stackalloc Vector256<float>[8];
            // Pinned because the masked intrinsics take raw pointers and the workspace arrays can move.
            fixed (float* ps = &s)
            {
                for (int i = 0; i < 8; i++) r[i] = i < nr ? Avx.MaskLoad(ps + i * ss, cm) : Vector256<float>.Zero;
            }
            Vector256<float> t0 = Avx.UnpackLow(r[0], r[1]), t1 = Avx.UnpackHigh(r[0], r[1]);
            Vector256<float> t2 = Avx.UnpackLow(r[2], r[3]), t3 = Avx.UnpackHigh(r[2], r[3]);
            Vector256<float> t4 = Avx.UnpackLow(r[4], r[5]), t5 = Avx.UnpackHigh(r[4], r[5]);
            Vector256<float> t6 = Avx.UnpackLow(r[6], r[7]), t7 = Avx.UnpackHigh(r[6], r[7]);
            Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
            Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
            Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
            r[0] = Avx.Permute2x128(u0, u4, 0x20); r[1] = Avx.Permute2x128(u1, u5, 0x20);
            r[2] = Avx.Permute2x128(u2, u6, 0x20); r[3] = Avx.Permute2x128(u3, u7, 0x20);
            r[4] = Avx.Permute2x128(u0, u4, 0x31); r[5] = Avx.Permute2x128(u1, u5, 0x31);
            r[6] = Avx.Permute2x128(u2, u6, 0x31); r[7] = Avx.Permute2x128(u3, u7, 0x31);
            fixed (float* pd = &d)
            {
                for (int c = 0; c < nc; c++) Avx.MaskStore(pd + c * ds, rm, r[c]);
            }
        }

        private static unsafe void Tile4x4Masked(ref double s, int ss, ref double d, int ds, int nr, int nc)
        {
            Vector256<double> cm = MaskD(nc), rm = MaskD(nr);
            Span<Vector256<double>> r = stackalloc Vector256<double>[4];
            fixed (double* ps = &s)
            {
                for (int i = 0; i < 4; i++) r[i] = i < nr ? Avx.MaskLoad(ps + i * ss, cm) : Vector256<double>.Zero;
            }
            Vector256<double> t0 = Avx.UnpackLow(r[0], r[1]), t1 = Avx.UnpackHigh(r[0], r[1]);
            Vector256<double> t2 = Avx.UnpackLow(r[2], r[3]), t3 = Avx.UnpackHigh(r[2], r[3]);
            r[0] = Avx.Permute2x128(t0, t2, 0x20); r[1] = Avx.Permute2x128(t1, t3, 0x20);
            r[2] = Avx.Permute2x128(t0, t2, 0x31); r[3] = Avx.Permute2x128(t1, t3, 0x31);
            fixed (double* pd = &d)
            {
                for (int c = 0; c < nc; c++) Avx.MaskStore(pd + c * ds, rm, r[c]);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tile8x8(ref float s, int ss, ref float d, int ds)
        {
            Vector256<float> r0 = Vector256.LoadUnsafe(ref s), r1 = Vector256.LoadUnsafe(ref s, (nuint)ss);
            Vector256<float> r2 = Vector256.LoadUnsafe(ref s, (nuint)(2 * ss)), r3 = Vector256.LoadUnsafe(ref s, (nuint)(3 * ss));
            Vector256<float> r4 = Vector256.LoadUnsafe(ref s, (nuint)(4 * ss)), r5 = Vector256.LoadUnsafe(ref s, (nuint)(5 * ss));
            Vector256<float> r6 = Vector256.LoadUnsafe(ref s, (nuint)(6 * ss)), r7 = Vector256.LoadUnsafe(ref s, (nuint)(7 * ss));
            Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
            Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
            Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
            Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
            Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
            Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
            Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref d);
            Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref d, (nuint)ds);
            Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref d, (nuint)(2 * ds));
            Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref d, (nuint)(3 * ds));
            Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref d, (nuint)(4 * ds));
            Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref d, (nuint)(5 * ds));
            Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref d, (nuint)(6 * ds));
            Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref d, (nuint)(7 * ds));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tile4x4(ref double s, int ss, ref double d, int ds)
        {
            Vector256<double> r0 = Vector256.LoadUnsafe(ref s), r1 = Vector256.LoadUnsafe(ref s, (nuint)ss);
            Vector256<double> r2 = Vector256.LoadUnsafe(ref s, (nuint)(2 * ss)), r3 = Vector256.LoadUnsafe(ref s, (nuint)(3 * ss));
            Vector256<double> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
            Vector256<double> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref d);
            Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref d, (nuint)ds);
            Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref d, (nuint)(2 * ds));
            Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref d, (nuint)(3 * ds));
        }

        /// <summary>dst = (re[0], im[0], re[1], im[1], ...).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Interleave(Span<T> dst, ReadOnlySpan<T> re, ReadOnlySpan<T> im)
        {
            int n = re.Length;
            if (im.Length < n || dst.Length < 2 * n) throw new InvalidOperationException("Interleave out of range.");
            ref T d = ref MemoryMarshal.GetReference(dst);
            ref T a = ref MemoryMarshal.GetReference(re), b = ref MemoryMarshal.GetReference(im);
            int k = 0;
            if (Avx.IsSupported && typeof(T) == typeof(float))
            {
                for (; k + 8 <= n; k += 8)
                {
                    var vr = Vector256.LoadUnsafe(ref Unsafe.As<T, float>(ref a), (nuint)k);
                    var vi = Vector256.LoadUnsafe(ref Unsafe.As<T, float>(ref b), (nuint)k);
                    Vector256<float> lo = Avx.UnpackLow(vr, vi), hi = Avx.UnpackHigh(vr, vi);
                    Avx.Permute2x128(lo, hi, 0x20).StoreUnsafe(ref Unsafe.As<T, float>(ref d), (nuint)(2 * k));
                    Avx.Permute2x128(lo, hi, 0x31).StoreUnsafe(ref Unsafe.As<T, float>(ref d), (nuint)(2 * k + 8));
                }
            }
            else if (Avx.IsSupported && typeof(T) == typeof(double))
            {
                for (; k + 4 <= n; k += 4)
                {
                    var vr = Vector256.LoadUnsafe(ref Unsafe.As<T, double>(ref a), (nuint)k);
                    var vi = Vector256.LoadUnsafe(ref Unsafe.As<T, double>(ref b), (nuint)k);
                    Vector256<double> lo = Avx.UnpackLow(vr, vi), hi = Avx.UnpackHigh(vr, vi);
                    Avx.Permute2x128(lo, hi, 0x20).StoreUnsafe(ref Unsafe.As<T, double>(ref d), (nuint)(2 * k));
                    Avx.Permute2x128(lo, hi, 0x31).StoreUnsafe(ref Unsafe.As<T, double>(ref d), (nuint)(2 * k + 4));
                }
            }
            for (; k < n; k++)
            {
                Unsafe.Add(ref d, 2 * k) = Unsafe.Add(ref a, k);
                Unsafe.Add(ref d, 2 * k + 1) = Unsafe.Add(ref b, k);
            }
        }

        /// <summary>(re[k], im[k]) = (src[2k], src[2k+1]).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Deinterleave(Span<T> re, Span<T> im, ReadOnlySpan<T> src)
        {
            int n = re.Length;
            if (im.Length < n || src.Length < 2 * n) throw new InvalidOperationException("Deinterleave out of range.");
            ref T s = ref MemoryMarshal.GetReference(src);
            ref T a = ref MemoryMarshal.GetReference(re), b = ref MemoryMarshal.GetReference(im);
            int k = 0;
            if (Avx.IsSupported && typeof(T) == typeof(float))
            {
                for (; k + 8 <= n; k += 8)
                {
                    var v0 = Vector256.LoadUnsafe(ref Unsafe.As<T, float>(ref s), (nuint)(2 * k));
                    var v1 = Vector256.LoadUnsafe(ref Unsafe.As<T, float>(ref s), (nuint)(2 * k + 8));
                    Vector256<float> p = Avx.Permute2x128(v0, v1, 0x20), q = Avx.Permute2x128(v0, v1, 0x31);
                    Avx.Shuffle(p, q, 0x88).StoreUnsafe(ref Unsafe.As<T, float>(ref a), (nuint)k);
                    Avx.Shuffle(p, q, 0xDD).StoreUnsafe(ref Unsafe.As<T, float>(ref b), (nuint)k);
                }
            }
            else if (Avx.IsSupported && typeof(T) == typeof(double))
            {
                for (; k + 4 <= n; k += 4)
                {
                    var v0 = Vector256.LoadUnsafe(ref Unsafe.As<T, double>(ref s), (nuint)(2 * k));
                    var v1 = Vector256.LoadUnsafe(ref Unsafe.As<T, double>(ref s), (nuint)(2 * k + 4));
                    Vector256<double> p = Avx.Permute2x128(v0, v1, 0x20), q = Avx.Permute2x128(v0, v1, 0x31);
                    Avx.UnpackLow(p, q).StoreUnsafe(ref Unsafe.As<T, double>(ref a), (nuint)k);
                    Avx.UnpackHigh(p, q).StoreUnsafe(ref Unsafe.As<T, double>(ref b), (nuint)k);
                }
            }
            for (; k < n; k++)
            {
                Unsafe.Add(ref a, k) = Unsafe.Add(ref s, 2 * k);
                Unsafe.Add(ref b, k) = Unsafe.Add(ref s, 2 * k + 1);
            }
        }

        /// <summary>
        /// A forward complex DFT of one length, applied to many lanes at once. Data are split arrays
        /// <c>re[k * lanes + lane]</c>, <c>im[...]</c>; lanes is a multiple of Vector&lt;T&gt;.Count.
        /// </summary>
        private sealed class Plan
        {
            private static readonly ConcurrentDictionary<int, Plan> s_cache = new();

            public static Plan Get(int n) => s_cache.GetOrAdd(n, static n => new Plan(n));

            private readonly int _n;

            // Stockham stages: radix, and twiddles w_len^{p·k} at [p·(r−1) + k−1] for the stage's current length.
            private readonly int[] _radix = [];
            private readonly T[][] _twRe = [], _twIm = [];
            // Generic odd radix r: cos/sin(2π·(j·k mod r)/r) at [(k−1)·(r−1)/2 + j−1].
            private readonly T[]?[] _cos = [], _sin = [];

            // Bluestein: X_k = w_k · Σ_j (x_j w_j) · conj(w_{k−j}), w_k = e^{−iπk²/n}, the convolution done with a
            // power-of-two FFT of length _m; _kern is FFT_m(conj w) / _m.
            private readonly Plan? _inner;
            private readonly int _m;
            private readonly T[] _chirpRe = [], _chirpIm = [], _kernRe = [], _kernIm = [];

            private Plan(int n)
            {
                _n = n;
                List<int>? radices = Factor(n);
                if (radices is null)
                {
                    _m = (int)BitOperations.RoundUpToPowerOf2((uint)(2 * n - 1));
                    _inner = Get(_m);
                    BuildBluestein(n, out _chirpRe, out _chirpIm, out _kernRe, out _kernIm);
                    return;
                }

                _radix = radices.ToArray();
                int s = _radix.Length;
                _twRe = new T[s][];
                _twIm = new T[s][];
                _cos = new T[]?[s];
                _sin = new T[]?[s];
                int len = n;
                for (int i = 0; i < s; i++)
                {
                    int r = _radix[i], m = len / r;
                    var twr = new T[m * (r - 1)];
                    var twi = new T[m * (r - 1)];
                    for (int p = 0; p < m; p++)
                    {
                        for (int k = 1; k < r; k++)
                        {
                            (double sn, double cs) = UnitRoot((long)p * k, len);
                            twr[p * (r - 1) + k - 1] = T.CreateTruncating(cs);
                            twi[p * (r - 1) + k - 1] = T.CreateTruncating(-sn);
                        }
                    }
                    _twRe[i] = twr;
                    _twIm[i] = twi;
                    if (r > 8)
                    {
                        int half = (r - 1) / 2;
                        var cos = new T[half * half];
                        var sin = new T[half * half];
                        for (int k = 1; k <= half; k++)
                        {
                            for (int j = 1; j <= half; j++)
                            {
                                (double sn, double cs) = UnitRoot((long)j * k, r);
                                cos[(k - 1) * half + j - 1] = T.CreateTruncating(cs);
                                sin[(k - 1) * half + j - 1] = T.CreateTruncating(sn);
                            }
                        }
                        _cos[i] = cos;
                        _sin[i] = sin;
                    }
                    len = m;
                }
            }

            /// <summary>(sin, cos) of 2π·num/den, reducing num mod den first so large products stay exact.</summary>
            private static (double Sin, double Cos) UnitRoot(long num, long den) =>
                Math.SinCos(2.0 * Math.PI * (num % den) / den);

            /// <summary>Radices for the Stockham stages, or null when a prime factor exceeds MaxRadix.</summary>
            private static List<int>? Factor(int n)
            {
                var r = new List<int>();
                int rem = n;
                // Radix 8 does the most work per pass over memory; 4 and 2 mop up the remaining powers of two.
                while (rem % 8 == 0) { r.Add(8); rem /= 8; }
                if (rem % 4 == 0) { r.Add(4); rem /= 4; }
                if (rem % 2 == 0) { r.Add(2); rem /= 2; }
                for (int f = 3; (long)f * f <= rem; f += 2)
                {
                    while (rem % f == 0)
                    {
                        if (f > MaxRadix) return null;
                        r.Add(f);
                        rem /= f;
                    }
                }
                if (rem > 1)
                {
                    if (rem > MaxRadix) return null;
                    r.Add(rem);
                }
                return r;
            }

            private void BuildBluestein(int n, out T[] chirpRe, out T[] chirpIm, out T[] kernRe, out T[] kernIm)
            {
                chirpRe = new T[n];
                chirpIm = new T[n];
                // The kernel FFT is done in double whatever T is, so float plans carry no extra rounding from it.
                int lanes = Vector<double>.Count, m = _m;
                var dr = new double[m * lanes];
                var di = new double[m * lanes];
                for (int k = 0; k < n; k++)
                {
                    // k² mod 2n keeps the angle argument small and exact: e^{−iπk²/n} has period 2n in k².
                    (double sn, double cs) = Math.SinCos(Math.PI * ((long)k * k % (2L * n)) / n);
                    chirpRe[k] = T.CreateTruncating(cs);
                    chirpIm[k] = T.CreateTruncating(-sn);
                    dr[k * lanes] = cs;
                    di[k * lanes] = sn;
                    if (k > 0)
                    {
                        dr[(m - k) * lanes] = cs;
                        di[(m - k) * lanes] = sn;
                    }
                }
                var plan = Engine<double>.Plan.Get(m);
                var wr = new double[plan.WorkLength(lanes)];
                var wi = new double[plan.WorkLength(lanes)];
                bool inD = plan.Forward(dr, di, wr, wi, lanes);
                double[] rr = inD ? dr : wr, ri = inD ? di : wi;
                kernRe = new T[m];
                kernIm = new T[m];
                for (int k = 0; k < m; k++)
                {
                    kernRe[k] = T.CreateTruncating(rr[k * lanes] / m);
                    kernIm[k] = T.CreateTruncating(ri[k * lanes] / m);
                }
            }

            /// <summary>Scratch each of the two work arrays must hold for <paramref name="lanes"/> lanes.</summary>
            public int WorkLength(int lanes) => _inner is null ? _n * lanes : 2 * _m * lanes;

            /// <summary>
            /// Forward DFT of every lane of (re, im) (first n·lanes elements). (wr, wi) is scratch of WorkLength(lanes).
            /// Returns true when the result is in (re, im), false when it is in the first n·lanes elements of (wr, wi).
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public bool Forward(Span<T> re, Span<T> im, Span<T> wr, Span<T> wi, int lanes)
            {
                int len = _n * lanes, work = WorkLength(lanes);
                // The kernels index without bounds checks; this guards them.
                if (lanes % Vc != 0 || re.Length < len || im.Length < len || wr.Length < work || wi.Length < work)
                    throw new InvalidOperationException("FFT buffers are too small.");
                if (_inner is not null)
                {
                    Bluestein(re, im, wr, wi, lanes);
                    return true;
                }

                ref Vector<T> xr = ref AsVectors(re), xi = ref AsVectors(im);
                ref Vector<T> yr = ref AsVectors(wr), yi = ref AsVectors(wi);
                int stride = lanes / Vc, cur = _n;
                bool inX = true;
                for (int i = 0; i < _radix.Length; i++)
                {
                    int r = _radix[i], m = cur / r;
                    if (inX) Stage(i, r, m, stride, ref xr, ref xi, ref yr, ref yi);
                    else Stage(i, r, m, stride, ref yr, ref yi, ref xr, ref xi);
                    stride *= r;
                    cur = m;
                    inX = !inX;
                }
                return inX;
            }

            private void Stage(int i, int r, int m, int s, ref Vector<T> xr, ref Vector<T> xi, ref Vector<T> yr, ref Vector<T> yi)
            {
                switch (r)
                {
                    case 2: Radix2(m, s, _twRe[i], _twIm[i], ref xr, ref xi, ref yr, ref yi); break;
                    case 3: Radix3(m, s, _twRe[i], _twIm[i], ref xr, ref xi, ref yr, ref yi); break;
                    case 4: Radix4(m, s, _twRe[i], _twIm[i], ref xr, ref xi, ref yr, ref yi); break;
                    case 8: Radix8(m, s, _twRe[i], _twIm[i], ref xr, ref xi, ref yr, ref yi); break;
                    case 5: Radix5(m, s, _twRe[i], _twIm[i], ref xr, ref xi, ref yr, ref yi); break;
                    case 7: Radix7(m, s, _twRe[i], _twIm[i], ref xr, ref xi, ref yr, ref yi); break;
                    default: RadixOdd(r, m, s, _twRe[i], _twIm[i], _cos[i]!, _sin[i]!, ref xr, ref xi, ref yr, ref yi); break;
                }
            }

            // Stockham DIF step with the current length len = r·m and s vectors per element (the product of earlier
            // radices times vectors per lane row): for p < m, q < s,
            //   y[q + s·(r·p + k)] = w_len^{p·k} · Σ_j x[q + s·(p + j·m)] · w_r^{j·k}.
            // The inner q loop is unit stride over whole vectors.

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private static void Radix2(int m, int s, T[] twr, T[] twi, ref Vector<T> xr, ref Vector<T> xi, ref Vector<T> yr, ref Vector<T> yi)
            {
                int sm = s * m;
                for (int p = 0; p < m; p++)
                {
                    int i0 = s * p, o0 = 2 * s * p;
                    var wr = new Vector<T>(twr[p]);
                    var wi = new Vector<T>(twi[p]);
                    bool unit = p == 0;
                    for (int q = 0; q < s; q++)
                    {
                        Vector<T> ar = Unsafe.Add(ref xr, i0 + q), ai = Unsafe.Add(ref xi, i0 + q);
                        Vector<T> br = Unsafe.Add(ref xr, i0 + sm + q), bi = Unsafe.Add(ref xi, i0 + sm + q);
                        Unsafe.Add(ref yr, o0 + q) = ar + br;
                        Unsafe.Add(ref yi, o0 + q) = ai + bi;
                        Vector<T> dr = ar - br, di = ai - bi;
                        if (unit)
                        {
                            Unsafe.Add(ref yr, o0 + s + q) = dr;
                            Unsafe.Add(ref yi, o0 + s + q) = di;
                        }
                        else
                        {
                            Unsafe.Add(ref yr, o0 + s + q) = dr * wr - di * wi;
                            Unsafe.Add(ref yi, o0 + s + q) = dr * wi + di * wr;
                        }
                    }
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private static void Radix3(int m, int s, T[] twr, T[] twi, ref Vector<T> xr, ref Vector<T> xi, ref Vector<T> yr, ref Vector<T> yi)
            {
                int sm = s * m;
                var c = new Vector<T>(T.CreateTruncating(-0.5));
                var sn = new Vector<T>(T.CreateTruncating(0.86602540378443864676)); // sin(2π/3)
                for (int p = 0; p < m; p++)
                {
                    int i0 = s * p, o0 = 3 * s * p;
                    var w1r = new Vector<T>(twr[2 * p]); var w1i = new Vector<T>(twi[2 * p]);
                    var w2r = new Vector<T>(twr[2 * p + 1]); var w2i = new Vector<T>(twi[2 * p + 1]);
                    for (int q = 0; q < s; q++)
                    {
                        Vector<T> a0r = Unsafe.Add(ref xr, i0 + q), a0i = Unsafe.Add(ref xi, i0 + q);
                        Vector<T> a1r = Unsafe.Add(ref xr, i0 + sm + q), a1i = Unsafe.Add(ref xi, i0 + sm + q);
                        Vector<T> a2r = Unsafe.Add(ref xr, i0 + 2 * sm + q), a2i = Unsafe.Add(ref xi, i0 + 2 * sm + q);
                        Vector<T> tr = a1r + a2r, ti = a1i + a2i;
                        Vector<T> dr = (a1r - a2r) * sn, di = (a1i - a2i) * sn;
                        Vector<T> mr = a0r + tr * c, mi = a0i + ti * c;
                        Unsafe.Add(ref yr, o0 + q) = a0r + tr;
                        Unsafe.Add(ref yi, o0 + q) = a0i + ti;
                        // b1 = m − i·d, b2 = m + i·d.
                        Vector<T> b1r = mr + di, b1i = mi - dr, b2r = mr - di, b2i = mi + dr;
                        Unsafe.Add(ref yr, o0 + s + q) = b1r * w1r - b1i * w1i;
                        Unsafe.Add(ref yi, o0 + s + q) = b1r * w1i + b1i * w1r;
                        Unsafe.Add(ref yr, o0 + 2 * s + q) = b2r * w2r - b2i * w2i;
                        Unsafe.Add(ref yi, o0 + 2 * s + q) = b2r * w2i + b2i * w2r;
                    }
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private static void Radix4(int m, int s, T[] twr, T[] twi, ref Vector<T> xr, ref Vector<T> xi, ref Vector<T> yr, ref Vector<T> yi)
            {
                int sm = s * m;
                for (int p = 0; p < m; p++)
                {
                    int i0 = s * p, o0 = 4 * s * p;
                    var w1r = new Vector<T>(twr[3 * p]); var w1i = new Vector<T>(twi[3 * p]);
                    var w2r = new Vector<T>(twr[3 * p + 1]); var w2i = new Vector<T>(twi[3 * p + 1]);
                    var w3r = new Vector<T>(twr[3 * p + 2]); var w3i = new Vector<T>(twi[3 * p + 2]);
                    bool unit = p == 0;
                    for (int q = 0; q < s; q++)
                    {
                        Vector<T> a0r = Unsafe.Add(ref xr, i0 + q), a0i = Unsafe.Add(ref xi, i0 + q);
                        Vector<T> a1r = Unsafe.Add(ref xr, i0 + sm + q), a1i = Unsafe.Add(ref xi, i0 + sm + q);
                        Vector<T> a2r = Unsafe.Add(ref xr, i0 + 2 * sm + q), a2i = Unsafe.Add(ref xi, i0 + 2 * sm + q);
                        Vector<T> a3r = Unsafe.Add(ref xr, i0 + 3 * sm + q), a3i = Unsafe.Add(ref xi, i0 + 3 * sm + q);
                        Vector<T> t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i;
                        Vector<T> t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i;
                        // b1 = t1 − i·t3, b3 = t1 + i·t3.
                        Vector<T> b0r = t0r + t2r, b0i = t0i + t2i, b2r = t0r - t2r, b2i = t0i - t2i;
                        Vector<T> b1r = t1r + t3i, b1i = t1i - t3r, b3r = t1r - t3i, b3i = t1i + t3r;
                        Unsafe.Add(ref yr, o0 + q) = b0r;
                        Unsafe.Add(ref yi, o0 + q) = b0i;
                        if (unit)
                        {
                            Unsafe.Add(ref yr, o0 + s + q) = b1r;
                            Unsafe.Add(ref yi, o0 + s + q) = b1i;
                            Unsafe.Add(ref yr, o0 + 2 * s + q) = b2r;
                            Unsafe.Add(ref yi, o0 + 2 * s + q) = b2i;
                            Unsafe.Add(ref yr, o0 + 3 * s + q) = b3r;
                            Unsafe.Add(ref yi, o0 + 3 * s + q) = b3i;
                        }
                        else
                        {
                            Unsafe.Add(ref yr, o0 + s + q) = b1r * w1r - b1i * w1i;
                            Unsafe.Add(ref yi, o0 + s + q) = b1r * w1i + b1i * w1r;
                            Unsafe.Add(ref yr, o0 + 2 * s + q) = b2r * w2r - b2i * w2i;
                            Unsafe.Add(ref yi, o0 + 2 * s + q) = b2r * w2i + b2i * w2r;
                            Unsafe.Add(ref yr, o0 + 3 * s + q) = b3r * w3r - b3i * w3i;
                            Unsafe.Add(ref yi, o0 + 3 * s + q) = b3r * w3i + b3i * w3r;
                        }
                    }
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private static void Radix8(int m, int s, T[] twr, T[] twi, ref Vector<T> xr, ref Vector<T> xi, ref Vector<T> yr, ref Vector<T> yi)
            {
                int sm = s * m;
                var h = new Vector<T>(T.CreateTruncating(0.70710678118654752440)); // 1/√2
                for (int p = 0; p < m; p++)
                {
                    int i0 = s * p, o0 = 8 * s * p, tw = 7 * p;
                    bool unit = p == 0;
                    for (int q = 0; q < s; q++)
                    {
                        ref Vector<T> ar = ref Unsafe.Add(ref xr, i0 + q);
                        ref Vector<T> ai = ref Unsafe.Add(ref xi, i0 + q);
                        // Even and odd halves as two radix-4 DFTs, then combined with w8^k.
                        Vector<T> a0r = ar, a0i = ai;
                        Vector<T> a1r = Unsafe.Add(ref ar, sm), a1i = Unsafe.Add(ref ai, sm);
                        Vector<T> a2r = Unsafe.Add(ref ar, 2 * sm), a2i = Unsafe.Add(ref ai, 2 * sm);
                        Vector<T> a3r = Unsafe.Add(ref ar, 3 * sm), a3i = Unsafe.Add(ref ai, 3 * sm);
                        Vector<T> a4r = Unsafe.Add(ref ar, 4 * sm), a4i = Unsafe.Add(ref ai, 4 * sm);
                        Vector<T> a5r = Unsafe.Add(ref ar, 5 * sm), a5i = Unsafe.Add(ref ai, 5 * sm);
                        Vector<T> a6r = Unsafe.Add(ref ar, 6 * sm), a6i = Unsafe.Add(ref ai, 6 * sm);
                        Vector<T> a7r = Unsafe.Add(ref ar, 7 * sm), a7i = Unsafe.Add(ref ai, 7 * sm);

                        // E = DFT4(a0, a2, a4, a6)
                        Vector<T> e0r = a0r + a4r, e0i = a0i + a4i, e1r = a0r - a4r, e1i = a0i - a4i;
                        Vector<T> e2r = a2r + a6r, e2i = a2i + a6i, e3r = a2r - a6r, e3i = a2i - a6i;
                        Vector<T> E0r = e0r + e2r, E0i = e0i + e2i, E2r = e0r - e2r, E2i = e0i - e2i;
                        Vector<T> E1r = e1r + e3i, E1i = e1i - e3r, E3r = e1r - e3i, E3i = e1i + e3r;
                        // O = DFT4(a1, a3, a5, a7)
                        Vector<T> o0r = a1r + a5r, o0i = a1i + a5i, o1r = a1r - a5r, o1i = a1i - a5i;
                        Vector<T> o2r = a3r + a7r, o2i = a3i + a7i, o3r = a3r - a7r, o3i = a3i - a7i;
                        Vector<T> O0r = o0r + o2r, O0i = o0i + o2i, O2r = o0r - o2r, O2i = o0i - o2i;
                        Vector<T> O1r = o1r + o3i, O1i = o1i - o3r, O3r = o1r - o3i, O3i = o1i + o3r;
                        // w8·O1 = (O1r + O1i, O1i − O1r)/√2; w8²·O2 = −i·O2; w8³·O3 = (O3i − O3r, −O3r − O3i)/√2.
                        Vector<T> P1r = (O1r + O1i) * h, P1i = (O1i - O1r) * h;
                        Vector<T> P2r = O2i, P2i = -O2r;
                        Vector<T> P3r = (O3i - O3r) * h, P3i = -(O3r + O3i) * h;

                        Unsafe.Add(ref yr, o0 + q) = E0r + O0r;
                        Unsafe.Add(ref yi, o0 + q) = E0i + O0i;
                        if (unit)
                        {
                            Unsafe.Add(ref yr, o0 + s + q) = E1r + P1r; Unsafe.Add(ref yi, o0 + s + q) = E1i + P1i;
                            Unsafe.Add(ref yr, o0 + 2 * s + q) = E2r + P2r; Unsafe.Add(ref yi, o0 + 2 * s + q) = E2i + P2i;
                            Unsafe.Add(ref yr, o0 + 3 * s + q) = E3r + P3r; Unsafe.Add(ref yi, o0 + 3 * s + q) = E3i + P3i;
                            Unsafe.Add(ref yr, o0 + 4 * s + q) = E0r - O0r; Unsafe.Add(ref yi, o0 + 4 * s + q) = E0i - O0i;
                            Unsafe.Add(ref yr, o0 + 5 * s + q) = E1r - P1r; Unsafe.Add(ref yi, o0 + 5 * s + q) = E1i - P1i;
                            Unsafe.Add(ref yr, o0 + 6 * s + q) = E2r - P2r; Unsafe.Add(ref yi, o0 + 6 * s + q) = E2i - P2i;
                            Unsafe.Add(ref yr, o0 + 7 * s + q) = E3r - P3r; Unsafe.Add(ref yi, o0 + 7 * s + q) = E3i - P3i;
                        }
                        else
                        {
                            StoreTw(ref yr, ref yi, o0 + s + q, E1r + P1r, E1i + P1i, twr[tw], twi[tw]);
                            StoreTw(ref yr, ref yi, o0 + 2 * s + q, E2r + P2r, E2i + P2i, twr[tw + 1], twi[tw + 1]);
                            StoreTw(ref yr, ref yi, o0 + 3 * s + q, E3r + P3r, E3i + P3i, twr[tw + 2], twi[tw + 2]);
                            StoreTw(ref yr, ref yi, o0 + 4 * s + q, E0r - O0r, E0i - O0i, twr[tw + 3], twi[tw + 3]);
                            StoreTw(ref yr, ref yi, o0 + 5 * s + q, E1r - P1r, E1i - P1i, twr[tw + 4], twi[tw + 4]);
                            StoreTw(ref yr, ref yi, o0 + 6 * s + q, E2r - P2r, E2i - P2i, twr[tw + 5], twi[tw + 5]);
                            StoreTw(ref yr, ref yi, o0 + 7 * s + q, E3r - P3r, E3i - P3i, twr[tw + 6], twi[tw + 6]);
                        }
                    }
                }
            }

            // Radix 5 and 7 are the odd-prime butterfly below with the cosines and sines as constants and every
            // partial sum in registers (28 = 4·7 is MNIST's size; 100 = 4·5·5).
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private static void Radix5(int m, int s, T[] twr, T[] twi, ref Vector<T> xr, ref Vector<T> xi, ref Vector<T> yr, ref Vector<T> yi)
            {
                int sm = s * m;
                var c1 = new Vector<T>(T.CreateTruncating(0.30901699437494742410));  // cos(2π/5)
                var c2 = new Vector<T>(T.CreateTruncating(-0.80901699437494742410)); // cos(4π/5)
                var s1 = new Vector<T>(T.CreateTruncating(0.95105651629515357212));  // sin(2π/5)
                var s2 = new Vector<T>(T.CreateTruncating(0.58778525229247312917));  // sin(4π/5)
                for (int p = 0; p < m; p++)
                {
                    int i0 = s * p, o0 = 5 * s * p, tw = 4 * p;
                    for (int q = 0; q < s; q++)
                    {
                        ref Vector<T> ar = ref Unsafe.Add(ref xr, i0 + q);
                        ref Vector<T> ai = ref Unsafe.Add(ref xi, i0 + q);
                        Vector<T> a0r = ar, a0i = ai;
                        Vector<T> a1r = Unsafe.Add(ref ar, sm), a1i = Unsafe.Add(ref ai, sm);
                        Vector<T> a2r = Unsafe.Add(ref ar, 2 * sm), a2i = Unsafe.Add(ref ai, 2 * sm);
                        Vector<T> a3r = Unsafe.Add(ref ar, 3 * sm), a3i = Unsafe.Add(ref ai, 3 * sm);
                        Vector<T> a4r = Unsafe.Add(ref ar, 4 * sm), a4i = Unsafe.Add(ref ai, 4 * sm);
                        Vector<T> u1r = a1r + a4r, u1i = a1i + a4i, v1r = a1r - a4r, v1i = a1i - a4i;
                        Vector<T> u2r = a2r + a3r, u2i = a2i + a3i, v2r = a2r - a3r, v2i = a2i - a3i;
                        Unsafe.Add(ref yr, o0 + q) = a0r + u1r + u2r;
                        Unsafe.Add(ref yi, o0 + q) = a0i + u1i + u2i;
                        // b_k = R_k − i·I_k, b_{5−k} = R_k + i·I_k.
                        Vector<T> r1r = a0r + c1 * u1r + c2 * u2r, r1i = a0i + c1 * u1i + c2 * u2i;
                        Vector<T> i1r = s1 * v1r + s2 * v2r, i1i = s1 * v1i + s2 * v2i;
                        Vector<T> r2r = a0r + c2 * u1r + c1 * u2r, r2i = a0i + c2 * u1i + c1 * u2i;
                        Vector<T> i2r = s2 * v1r - s1 * v2r, i2i = s2 * v1i - s1 * v2i;
                        StoreTw(ref yr, ref yi, o0 + s + q, r1r + i1i, r1i - i1r, twr[tw], twi[tw]);
                        StoreTw(ref yr, ref yi, o0 + 2 * s + q, r2r + i2i, r2i - i2r, twr[tw + 1], twi[tw + 1]);
                        StoreTw(ref yr, ref yi, o0 + 3 * s + q, r2r - i2i, r2i + i2r, twr[tw + 2], twi[tw + 2]);
                        StoreTw(ref yr, ref yi, o0 + 4 * s + q, r1r - i1i, r1i + i1r, twr[tw + 3], twi[tw + 3]);
                    }
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private static void Radix7(int m, int s, T[] twr, T[] twi, ref Vector<T> xr, ref Vector<T> xi, ref Vector<T> yr, ref Vector<T> yi)
            {
                int sm = s * m;
                var c1 = new Vector<T>(T.CreateTruncating(0.62348980185873353053));  // cos(2π/7)
                var c2 = new Vector<T>(T.CreateTruncating(-0.22252093395631440429)); // cos(4π/7)
                var c3 = new Vector<T>(T.CreateTruncating(-0.90096886790241912624)); // cos(6π/7)
                var s1 = new Vector<T>(T.CreateTruncating(0.78183148246802980871));  // sin(2π/7)
                var s2 = new Vector<T>(T.CreateTruncating(0.97492791218182360702));  // sin(4π/7)
                var s3 = new Vector<T>(T.CreateTruncating(0.43388373911755812048));  // sin(6π/7)
                for (int p = 0; p < m; p++)
                {
                    int i0 = s * p, o0 = 7 * s * p, tw = 6 * p;
                    for (int q = 0; q < s; q++)
                    {
                        ref Vector<T> ar = ref Unsafe.Add(ref xr, i0 + q);
                        ref Vector<T> ai = ref Unsafe.Add(ref xi, i0 + q);
                        Vector<T> a0r = ar, a0i = ai;
                        Vector<T> a1r = Unsafe.Add(ref ar, sm), a1i = Unsafe.Add(ref ai, sm);
                        Vector<T> a2r = Unsafe.Add(ref ar, 2 * sm), a2i = Unsafe.Add(ref ai, 2 * sm);
                        Vector<T> a3r = Unsafe.Add(ref ar, 3 * sm), a3i = Unsafe.Add(ref ai, 3 * sm);
                        Vector<T> a4r = Unsafe.Add(ref ar, 4 * sm), a4i = Unsafe.Add(ref ai, 4 * sm);
                        Vector<T> a5r = Unsafe.Add(ref ar, 5 * sm), a5i = Unsafe.Add(ref ai, 5 * sm);
                        Vector<T> a6r = Unsafe.Add(ref ar, 6 * sm), a6i = Unsafe.Add(ref ai, 6 * sm);
                        Vector<T> u1r = a1r + a6r, u1i = a1i + a6i, v1r = a1r - a6r, v1i = a1i - a6i;
                        Vector<T> u2r = a2r + a5r, u2i = a2i + a5i, v2r = a2r - a5r, v2i = a2i - a5i;
                        Vector<T> u3r = a3r + a4r, u3i = a3i + a4i, v3r = a3r - a4r, v3i = a3i - a4i;
                        Unsafe.Add(ref yr, o0 + q) = a0r + u1r + u2r + u3r;
                        Unsafe.Add(ref yi, o0 + q) = a0i + u1i + u2i + u3i;
                        // cos/sin(2π·jk/7) for j, k = 1..3, reduced to c1..c3, ±s1..s3.
                        Vector<T> r1r = a0r + c1 * u1r + c2 * u2r + c3 * u3r, r1i = a0i + c1 * u1i + c2 * u2i + c3 * u3i;
                        Vector<T> i1r = s1 * v1r + s2 * v2r + s3 * v3r, i1i = s1 * v1i + s2 * v2i + s3 * v3i;
                        Vector<T> r2r = a0r + c2 * u1r + c3 * u2r + c1 * u3r, r2i = a0i + c2 * u1i + c3 * u2i + c1 * u3i;
                        Vector<T> i2r = s2 * v1r - s3 * v2r - s1 * v3r, i2i = s2 * v1i - s3 * v2i - s1 * v3i;
                        Vector<T> r3r = a0r + c3 * u1r + c1 * u2r + c2 * u3r, r3i = a0i + c3 * u1i + c1 * u2i + c2 * u3i;
                        Vector<T> i3r = s3 * v1r - s1 * v2r + s2 * v3r, i3i = s3 * v1i - s1 * v2i + s2 * v3i;
                        StoreTw(ref yr, ref yi, o0 + s + q, r1r + i1i, r1i - i1r, twr[tw], twi[tw]);
                        StoreTw(ref yr, ref yi, o0 + 2 * s + q, r2r + i2i, r2i - i2r, twr[tw + 1], twi[tw + 1]);
                        StoreTw(ref yr, ref yi, o0 + 3 * s + q, r3r + i3i, r3i - i3r, twr[tw + 2], twi[tw + 2]);
                        StoreTw(ref yr, ref yi, o0 + 4 * s + q, r3r - i3i, r3i + i3r, twr[tw + 3], twi[tw + 3]);
                        StoreTw(ref yr, ref yi, o0 + 5 * s + q, r2r - i2i, r2i + i2r, twr[tw + 4], twi[tw + 4]);
                        StoreTw(ref yr, ref yi, o0 + 6 * s + q, r1r - i1i, r1i + i1r, twr[tw + 5], twi[tw + 5]);
                    }
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void StoreTw(ref Vector<T> yr, ref Vector<T> yi, int o, Vector<T> br, Vector<T> bi, T wr, T wi)
            {
                Unsafe.Add(ref yr, o) = br * wr - bi * wi;
                Unsafe.Add(ref yi, o) = br * wi + bi * wr;
            }

            /// <summary>Generic odd-prime butterfly using the x_j ± x_{r−j} symmetry (half the multiplies of a plain DFT).</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private static void RadixOdd(int r, int m, int s, T[] twr, T[] twi, T[] cos, T[] sin,
                ref Vector<T> xr, ref Vector<T> xi, ref Vector<T> yr, ref Vector<T> yi)
            {
                int sm = s * m, half = (r - 1) / 2;
                Span<Vector<T>> ur = stackalloc Vector<T>[half], ui = stackalloc Vector<T>[half];
                Span<Vector<T>> vr = stackalloc Vector<T>[half], vi = stackalloc Vector<T>[half];
                for (int p = 0; p < m; p++)
                {
                    int i0 = s * p, o0 = r * s * p, tw = (r - 1) * p;
                    for (int q = 0; q < s; q++)
                    {
                        Vector<T> a0r = Unsafe.Add(ref xr, i0 + q), a0i = Unsafe.Add(ref xi, i0 + q);
                        Vector<T> sr = a0r, si = a0i;
                        for (int j = 1; j <= half; j++)
                        {
                            Vector<T> pr = Unsafe.Add(ref xr, i0 + j * sm + q), pi = Unsafe.Add(ref xi, i0 + j * sm + q);
                            Vector<T> nr = Unsafe.Add(ref xr, i0 + (r - j) * sm + q), ni = Unsafe.Add(ref xi, i0 + (r - j) * sm + q);
                            ur[j - 1] = pr + nr; ui[j - 1] = pi + ni;
                            vr[j - 1] = pr - nr; vi[j - 1] = pi - ni;
                            sr += pr + nr; si += pi + ni;
                        }
                        Unsafe.Add(ref yr, o0 + q) = sr;
                        Unsafe.Add(ref yi, o0 + q) = si;
                        for (int k = 1; k <= half; k++)
                        {
                            // b_k = R − i·I, b_{r−k} = R + i·I with R = a0 + Σ cos·u, I = Σ sin·v.
                            Vector<T> rr = a0r, ri = a0i, ir = Vector<T>.Zero, ii = Vector<T>.Zero;
                            int row = (k - 1) * half;
                            for (int j = 0; j < half; j++)
                            {
                                var cs = new Vector<T>(cos[row + j]);
                                var sn = new Vector<T>(sin[row + j]);
                                rr += cs * ur[j]; ri += cs * ui[j];
                                ir += sn * vr[j]; ii += sn * vi[j];
                            }
                            StoreTw(ref yr, ref yi, o0 + k * s + q, rr + ii, ri - ir, twr[tw + k - 1], twi[tw + k - 1]);
                            StoreTw(ref yr, ref yi, o0 + (r - k) * s + q, rr - ii, ri + ir, twr[tw + r - k - 1], twi[tw + r - k - 1]);
                        }
                    }
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private void Bluestein(Span<T> re, Span<T> im, Span<T> wr, Span<T> wi, int lanes)
            {
                Plan inner = _inner!;
                int n = _n, m = _m, vl = lanes / Vc;
                Span<T> pr = wr.Slice(0, m * lanes), pi = wi.Slice(0, m * lanes);
                Span<T> qr = wr.Slice(m * lanes, m * lanes), qi = wi.Slice(m * lanes, m * lanes);

                ref Vector<T> xr = ref AsVectors(re), xi = ref AsVectors(im);
                ref Vector<T> ar = ref AsVectors(pr), ai = ref AsVectors(pi);
                for (int k = 0; k < n; k++)
                    MulRows(ref ar, ref ai, ref xr, ref xi, k * vl, vl, _chirpRe[k], _chirpIm[k]);
                pr.Slice(n * lanes).Clear();
                pi.Slice(n * lanes).Clear();

                bool inP = inner.Forward(pr, pi, qr, qi, lanes);
                Span<T> fr = inP ? pr : qr, fi = inP ? pi : qi, gr = inP ? qr : pr, gi = inP ? qi : pi;
                ref Vector<T> vfr = ref AsVectors(fr), vfi = ref AsVectors(fi);
                for (int k = 0; k < m; k++)
                    MulRows(ref vfr, ref vfi, ref vfr, ref vfi, k * vl, vl, _kernRe[k], _kernIm[k]);

                // Inverse transform by swapping real and imaginary parts.
                bool inF = inner.Forward(fi, fr, gi, gr, lanes);
                ref Vector<T> rr = ref AsVectors(inF ? fr : gr), ri = ref AsVectors(inF ? fi : gi);
                for (int k = 0; k < n; k++)
                    MulRows(ref xr, ref xi, ref rr, ref ri, k * vl, vl, _chirpRe[k], _chirpIm[k]);
            }

            /// <summary>dst[o..o+count) = src[o..o+count) · (wr + i·wi).</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            private static void MulRows(ref Vector<T> dr, ref Vector<T> di, ref Vector<T> sr, ref Vector<T> si, int o, int count, T wr, T wi)
            {
                var vr = new Vector<T>(wr);
                var vi = new Vector<T>(wi);
                for (int q = o; q < o + count; q++)
                {
                    Vector<T> a = Unsafe.Add(ref sr, q), b = Unsafe.Add(ref si, q);
                    Unsafe.Add(ref dr, q) = a * vr - b * vi;
                    Unsafe.Add(ref di, q) = a * vi + b * vr;
                }
            }
        }
    }
}

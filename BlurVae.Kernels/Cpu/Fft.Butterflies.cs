namespace BlurVae.Kernels.Cpu;

// The radix butterflies of a plan's Stockham stages (2, 3, 4, 5, 7, 8 and generic odd primes).
public static partial class Fft
{
    private static partial class Engine<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private sealed partial class Plan
        {
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
                        var (u1r, u1i, v1r, v1i) = SumDiff(ref ar, ref ai, sm, 4 * sm);
                        var (u2r, u2i, v2r, v2i) = SumDiff(ref ar, ref ai, 2 * sm, 3 * sm);
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
                        var (u1r, u1i, v1r, v1i) = SumDiff(ref ar, ref ai, sm, 6 * sm);
                        var (u2r, u2i, v2r, v2i) = SumDiff(ref ar, ref ai, 2 * sm, 5 * sm);
                        var (u3r, u3i, v3r, v3i) = SumDiff(ref ar, ref ai, 3 * sm, 4 * sm);
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

            /// <summary>x_j + x_k and x_j − x_k of a butterfly's inputs j and k, at offsets oj and ok from input 0: the
            /// symmetric pairs x_j ± x_{r−j} every odd radix is built on.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static (Vector<T> Ur, Vector<T> Ui, Vector<T> Vr, Vector<T> Vi) SumDiff(ref Vector<T> ar, ref Vector<T> ai, int oj, int ok)
            {
                Vector<T> pr = Unsafe.Add(ref ar, oj), pi = Unsafe.Add(ref ai, oj);
                Vector<T> nr = Unsafe.Add(ref ar, ok), ni = Unsafe.Add(ref ai, ok);
                return (pr + nr, pi + ni, pr - nr, pi - ni);
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
                        ref Vector<T> ar = ref Unsafe.Add(ref xr, i0 + q);
                        ref Vector<T> ai = ref Unsafe.Add(ref xi, i0 + q);
                        Vector<T> a0r = ar, a0i = ai;
                        Vector<T> sr = a0r, si = a0i;
                        for (int j = 1; j <= half; j++)
                        {
                            (ur[j - 1], ui[j - 1], vr[j - 1], vi[j - 1]) = SumDiff(ref ar, ref ai, j * sm, (r - j) * sm);
                            sr += ur[j - 1]; si += ui[j - 1];
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
        }
    }
}

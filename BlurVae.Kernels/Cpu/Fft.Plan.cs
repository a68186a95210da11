namespace BlurVae.Kernels.Cpu;

// A plan: the factorisation of one length, its twiddles, the Stockham stage loop and Bluestein.
public static partial class Fft
{
    private static partial class Engine<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>
        /// A forward complex DFT of one length, applied to many lanes at once. Data are split arrays
        /// <c>re[k * lanes + lane]</c>, <c>im[...]</c>; lanes is a multiple of Vector&lt;T&gt;.Count.
        /// </summary>
        private sealed partial class Plan
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

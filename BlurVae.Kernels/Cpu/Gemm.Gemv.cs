// Gemm.Gemv.cs - the streaming matrix-vector path of the GEMM (m == 1 or n == 1; see Gemm.cs).

using System.Buffers;

namespace BlurVae.Kernels.Cpu;

internal static unsafe partial class GemmCore<T, TTile> where T : unmanaged, INumber<T> where TTile : struct, IGemmTile<T>
{
    // ------------------------------------------------------------------ matrix-vector (m == 1 or n == 1)
    //
    // A GEMM with a single row or column of C is a matrix-vector product: it touches every element of the matrix
    // once, so it is bound by memory bandwidth and packing would only add traffic. Two streaming forms cover all
    // four transpose cases: "dot" (the matrix rows are contiguous along k: one dot product per output) and "axpy"
    // (the matrix rows run along the output: accumulate x[p] * row p into a contiguous accumulator).

    /// <summary>Output chunks claimed dynamically by the caller and by pool helpers (see the GEMM job above).</summary>
    private sealed class GemvJob : IThreadPoolWorkItem
    {
        private readonly Problem _p;
        private readonly int _chunks;
        private int _next, _done;

        public GemvJob(in Problem p, int chunks)
        {
            _p = p;
            _chunks = chunks;
        }

        public void Run(int helpers)
        {
            GemmHelpers.Start(this, helpers);
            Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) != _chunks) spin.SpinOnce(-1);
        }

        void IThreadPoolWorkItem.Execute() => Work();

        private void Work()
        {
            int chunk;
            while ((chunk = Interlocked.Increment(ref _next) - 1) < _chunks)
            {
                GemvPart(in _p, chunk, _chunks);
                Interlocked.Increment(ref _done);
            }
        }
    }

    private static void Gemv(in Problem p, int threads)
    {
        int outputs = p.N == 1 ? p.M : p.N;
        // About four chunks per thread, but at least 64 outputs each.
        int chunks = Math.Max(1, Math.Min(4 * threads, outputs / 64));
        if (threads <= 1 || chunks <= 1)
        {
            GemvPart(in p, 0, 1);
            return;
        }

        new GemvJob(in p, chunks).Run(Math.Min(threads, chunks) - 1);
    }

    /// <summary>Computes the outputs [part*outputs/parts, (part+1)*outputs/parts) of a matrix-vector product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvPart(in Problem p, int part, int parts)
    {
        T* A = (T*)p.A, B = (T*)p.B, C = (T*)p.C;
        int k = p.K;
        T* mat;     // the matrix operand
        nint ldm;
        T* x;       // the vector operand, element q at x[q * incx]
        nint incx;
        nint incy;  // output stride in C
        bool dotForm;
        int outputs;
        if (p.N == 1)
        {
            // c[i] = sum_q op(A)[i, q] * op(B)[q, 0]
            mat = A; ldm = p.Lda; dotForm = !p.TransA; outputs = p.M;
            x = B; incx = p.TransB ? 1 : p.Ldb; incy = p.Ldc;
        }
        else
        {
            // c[j] = sum_q op(A)[0, q] * op(B)[q, j]
            mat = B; ldm = p.Ldb; dotForm = p.TransB; outputs = p.N;
            x = A; incx = p.TransA ? p.Lda : 1; incy = 1;
        }

        int o0 = (int)((long)outputs * part / parts), o1 = (int)((long)outputs * (part + 1) / parts);
        int count = o1 - o0;
        if (count <= 0) return;

        // Scratch: a contiguous copy of x when it is strided, and the accumulator for the axpy form.
        int scratch = (incx != 1 ? k : 0) + (dotForm ? 0 : count);
        T[]? rented = scratch > 0 ? ArrayPool<T>.Shared.Rent(scratch) : null;
        try
        {
            fixed (T* tmp = rented)
            {
                if (incx != 1)
                {
                    for (int q = 0; q < k; q++) tmp[q] = x[q * incx];
                    x = tmp;
                }

                T* y = C + o0 * incy;
                if (dotForm)
                {
                    GemvDot(mat + o0 * ldm, ldm, count, k, x, y, incy, p.Alpha, p.Beta);
                }
                else
                {
                    T* acc = tmp + (incx != 1 ? k : 0);
                    GemvAxpy(mat + o0, ldm, count, k, x, acc);
                    for (int j = 0; j < count; j++)
                    {
                        T v = p.Alpha * acc[j];
                        y[j * incy] = p.Beta == T.Zero ? v : v + p.Beta * y[j * incy];
                    }
                }
            }
        }
        finally
        {
            if (rented != null) ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>y[i*incy] = alpha * dot(mat row i, x) + beta * y[i*incy] for i &lt; rows; four rows share each x load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvDot(T* mat, nint ldm, int rows, int k, T* x, T* y, nint incy, T alpha, T beta)
    {
        int w = Vector<T>.Count;
        int i = 0;
        for (; i + 4 <= rows; i += 4)
        {
            T* r0 = mat + i * ldm, r1 = r0 + ldm, r2 = r1 + ldm, r3 = r2 + ldm;
            Vector<T> s0 = Vector<T>.Zero, s1 = Vector<T>.Zero, s2 = Vector<T>.Zero, s3 = Vector<T>.Zero;
            int q = 0;
            for (; q + w <= k; q += w)
            {
                var xv = Vector.Load(x + q);
                s0 += Vector.Load(r0 + q) * xv;
                s1 += Vector.Load(r1 + q) * xv;
                s2 += Vector.Load(r2 + q) * xv;
                s3 += Vector.Load(r3 + q) * xv;
            }

            T d0 = Vector.Sum(s0), d1 = Vector.Sum(s1), d2 = Vector.Sum(s2), d3 = Vector.Sum(s3);
            for (; q < k; q++)
            {
                T xq = x[q];
                d0 += r0[q] * xq; d1 += r1[q] * xq; d2 += r2[q] * xq; d3 += r3[q] * xq;
            }

            StoreGemv(y + i * incy, d0, alpha, beta);
            StoreGemv(y + (i + 1) * incy, d1, alpha, beta);
            StoreGemv(y + (i + 2) * incy, d2, alpha, beta);
            StoreGemv(y + (i + 3) * incy, d3, alpha, beta);
        }

        for (; i < rows; i++)
        {
            T* r = mat + i * ldm;
            Vector<T> s = Vector<T>.Zero;
            int q = 0;
            for (; q + w <= k; q += w) s += Vector.Load(r + q) * Vector.Load(x + q);
            T d = Vector.Sum(s);
            for (; q < k; q++) d += r[q] * x[q];
            StoreGemv(y + i * incy, d, alpha, beta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreGemv(T* y, T dot, T alpha, T beta) => *y = beta == T.Zero ? alpha * dot : alpha * dot + beta * *y;

    /// <summary>acc[j] = sum_q x[q] * mat[q*ldm + j] for j &lt; cols, streaming four matrix rows per pass over acc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvAxpy(T* mat, nint ldm, int cols, int k, T* x, T* acc)
    {
        int w = Vector<T>.Count;
        new Span<T>(acc, cols).Clear();
        int q = 0;
        for (; q + 4 <= k; q += 4)
        {
            T* r0 = mat + q * ldm, r1 = r0 + ldm, r2 = r1 + ldm, r3 = r2 + ldm;
            T x0 = x[q], x1 = x[q + 1], x2 = x[q + 2], x3 = x[q + 3];
            var v0 = new Vector<T>(x0);
            var v1 = new Vector<T>(x1);
            var v2 = new Vector<T>(x2);
            var v3 = new Vector<T>(x3);
            int j = 0;
            for (; j + w <= cols; j += w)
            {
                var a = Vector.Load(acc + j);
                a += Vector.Load(r0 + j) * v0 + Vector.Load(r1 + j) * v1 + Vector.Load(r2 + j) * v2 + Vector.Load(r3 + j) * v3;
                a.Store(acc + j);
            }

            for (; j < cols; j++) acc[j] += r0[j] * x0 + r1[j] * x1 + r2[j] * x2 + r3[j] * x3;
        }

        for (; q < k; q++)
        {
            T* r = mat + q * ldm;
            T xq = x[q];
            var v = new Vector<T>(xq);
            int j = 0;
            for (; j + w <= cols; j += w) (Vector.Load(acc + j) + Vector.Load(r + j) * v).Store(acc + j);
            for (; j < cols; j++) acc[j] += r[j] * xq;
        }
    }
}

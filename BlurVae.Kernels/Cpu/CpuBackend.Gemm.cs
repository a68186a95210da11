namespace BlurVae.Kernels.Cpu;

// Matrix multiply: the packed, register-blocked SIMD GEMM in Gemm.cs, over a batch of strided matrices.
public sealed partial class CpuBackend
{
    public void Gemm(bool transA, bool transB, int m, int n, int k, double alpha,
                     BackendBuffer a, int aOffset, int lda, long strideA,
                     BackendBuffer b, int bOffset, int ldb, long strideB,
                     double beta, BackendBuffer c, int cOffset, int ldc, long strideC, int batch = 1)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be >= 1");
        for (int i = 0; i < batch; i++)
        {
            int ao = checked((int)(aOffset + i * strideA)), bo = checked((int)(bOffset + i * strideB)), co = checked((int)(cOffset + i * strideC));
            if (IsF32(c))
            {
                Cpu.Gemm.Sgemm(transA, transB, m, n, k, (float)alpha, Arr<float>(a).AsSpan(ao), lda, Arr<float>(b).AsSpan(bo), ldb,
                    (float)beta, Arr<float>(c).AsSpan(co), ldc, Parallelism.MaxThreads);
            }
            else
            {
                Cpu.Gemm.Dgemm(transA, transB, m, n, k, alpha, Arr<double>(a).AsSpan(ao), lda, Arr<double>(b).AsSpan(bo), ldb,
                    beta, Arr<double>(c).AsSpan(co), ldc, Parallelism.MaxThreads);
            }
        }
    }
}

namespace BlurVae.Native;

/// <summary>A cuBLAS handle (cublasCreate_v2 / cublasDestroy_v2). Column-major, as cuBLAS itself.</summary>
public sealed unsafe class CublasHandle : NativeHandle
{
    private CublasHandle(nint handle) : base(handle) { }

    public static CublasHandle Create()
    {
        nint handle;
        Cublas.Check(Cublas.cublasCreate_v2(&handle), "cublasCreate_v2");
        return new CublasHandle(handle);
    }

    public void SetStream(CudaStream? stream) => Cublas.Check(Cublas.cublasSetStream_v2(Handle, stream?.Handle ?? 0), "cublasSetStream_v2");

    /// <param name="mode"><see cref="Cublas.DefaultMath"/>, <see cref="Cublas.PedanticMath"/> or <see cref="Cublas.Tf32TensorOpMath"/>.</param>
    public void SetMathMode(int mode) => Cublas.Check(Cublas.cublasSetMathMode(Handle, mode), "cublasSetMathMode");

    /// <summary>Gives the handle <paramref name="bytes"/> of device memory at <paramref name="workspace"/> as its workspace.</summary>
    public void SetWorkspace(ulong workspace, long bytes) =>
        Cublas.Check(Cublas.cublasSetWorkspace_v2(Handle, workspace, (nuint)bytes), "cublasSetWorkspace_v2");

    /// <summary>C = alpha · op(A) · op(B) + beta · C, column-major.</summary>
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, ulong b, int ldb,
        float beta, ulong c, int ldc) =>
        Cublas.Check(Cublas.cublasSgemm_v2(Handle, Op(transA), Op(transB), m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc),
            "cublasSgemm_v2");

    /// <summary>Sgemm over <paramref name="batch"/> matrices spaced by the given element strides.</summary>
    public void SgemmStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch) =>
        Cublas.Check(Cublas.cublasSgemmStridedBatched(Handle, Op(transA), Op(transB), m, n, k, &alpha, a, lda, strideA,
            b, ldb, strideB, &beta, c, ldc, strideC, batch), "cublasSgemmStridedBatched");

    private static int Op(bool transpose) => transpose ? Cublas.OpT : Cublas.OpN;

    protected override void Destroy(nint handle) => Cublas.Check(Cublas.cublasDestroy_v2(handle), "cublasDestroy_v2");
}

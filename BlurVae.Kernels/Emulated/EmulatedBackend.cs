using System.Numerics.Tensors;
using BlurVae.Kernels.Cpu;

namespace BlurVae.Kernels.Emulated;

/// <summary>
/// The CUDA backend's code path on the emulated device: every op launches the kernels of kernels/*.cuh through
/// the <see cref="EmulatedDevice"/> launchers, with their launch geometry, argument marshalling and device buffers,
/// so that whole models train on it in CI without a GPU. cuBLAS and cuFFT calls go to the CPU backend's GEMM and
/// FFT (<see cref="Cpu.Gemm.Sgemm"/>, <see cref="Cpu.Fft.Rfft2{T}"/>), run on spans over the emulated device
/// memory. Upload, Download, Copy and Fill are host copies (the emulated device's memory is host memory), as
/// cudaMemcpy/cudaMemset would be. Float32 only: the kernels are float.
/// </summary>
public sealed class EmulatedBackend : IBackend
{
    /// <param name="device">The emulated device; default: a new one over the default host kernels library.</param>
    public EmulatedBackend(EmulatedDevice? device = null)
    {
        Device = device ?? new EmulatedDevice();
    }

    public string Name => "emulated-cuda";

    public EmulatedDevice Device { get; }

    // ---- memory ----

    public DeviceBuffer Allocate(DType dtype, int length)
    {
        if (dtype != DType.Float32)
            throw new NotSupportedException($"The emulated CUDA backend holds float32 only (its kernels are float); cannot allocate a {dtype} buffer. Use DType.Float32, or the CPU backend for {dtype}.");
        // EmulatedDevice.Allocate zero-fills, as IBackend requires (cudaMemset on a GPU).
        return new EmulatedDeviceBuffer(this, Device.Allocate(length));
    }

    public void Upload(DeviceBuffer dst, ReadOnlySpan<float> src)
    {
        var d = Buf(dst, nameof(dst));
        CheckLength(dst, src.Length, nameof(dst));
        src.CopyTo(d.Span);
        GC.KeepAlive(d);
    }

    public void Upload(DeviceBuffer dst, ReadOnlySpan<double> src)
    {
        var d = Buf(dst, nameof(dst));
        CheckLength(dst, src.Length, nameof(dst));
        TensorPrimitives.ConvertTruncating<double, float>(src, d.Span);
        GC.KeepAlive(d);
    }

    public void Download(DeviceBuffer src, Span<float> dst)
    {
        var s = Buf(src, nameof(src));
        CheckLength(src, dst.Length, nameof(src));
        s.Span.CopyTo(dst);
        GC.KeepAlive(s);
    }

    public void Download(DeviceBuffer src, Span<double> dst)
    {
        var s = Buf(src, nameof(src));
        CheckLength(src, dst.Length, nameof(src));
        TensorPrimitives.ConvertChecked<float, double>(s.Span, dst);
        GC.KeepAlive(s);
    }

    public void Copy(DeviceBuffer dst, DeviceBuffer src)
    {
        var d = Buf(dst, nameof(dst));
        var s = Buf(src, nameof(src));
        CheckLength(dst, src.Length, nameof(dst));
        s.Span.CopyTo(d.Span);
        KeepAlive(d, s);
    }

    public void Fill(DeviceBuffer dst, double value)
    {
        var d = Buf(dst, nameof(dst));
        d.Span.Fill((float)value);
        GC.KeepAlive(d);
    }

    // ---- elementwise ----

    public void UnaryForward(UnaryOp op, DeviceBuffer y, DeviceBuffer x, double alpha)
    {
        CheckLength(y, x.Length, nameof(y));
        Device.UnaryForward(op, Mem(y, nameof(y)), Mem(x, nameof(x)), x.Length, alpha);
        KeepAlive(y, x);
    }

    public void UnaryBackward(UnaryOp op, DeviceBuffer dx, DeviceBuffer dy, DeviceBuffer x, DeviceBuffer y, double alpha)
    {
        CheckLength(dx, dy.Length, nameof(dx));
        CheckLength(x, dy.Length, nameof(x));
        CheckLength(y, dy.Length, nameof(y));
        Device.UnaryBackward(op, Mem(dx, nameof(dx)), Mem(dy, nameof(dy)), Mem(x, nameof(x)), Mem(y, nameof(y)), dy.Length, alpha);
        KeepAlive(dx, dy, x, y);
    }

    public void BinaryForward(BinaryOp op, DeviceBuffer y, int[] yShape, DeviceBuffer a, int[] aShape, DeviceBuffer b, int[] bShape)
    {
        CheckLength(y, Shapes.Product(yShape), nameof(y));
        CheckLength(a, Shapes.Product(aShape), nameof(a));
        CheckLength(b, Shapes.Product(bShape), nameof(b));
        Device.BinaryForward(op, Mem(y, nameof(y)), yShape, Mem(a, nameof(a)), aShape, Mem(b, nameof(b)), bShape);
        KeepAlive(y, a, b);
    }

    public void Axpby(DeviceBuffer y, double alpha, DeviceBuffer x, double beta)
    {
        CheckLength(y, x.Length, nameof(y));
        Device.Axpby(Mem(y, nameof(y)), alpha, Mem(x, nameof(x)), beta, x.Length);
        KeepAlive(y, x);
    }

    // ---- reductions and broadcasts ----

    public void SumTo(DeviceBuffer y, int[] yShape, DeviceBuffer x, int[] xShape)
    {
        CheckLength(y, Shapes.Product(yShape), nameof(y));
        CheckLength(x, Shapes.Product(xShape), nameof(x));
        Device.SumToForward(Mem(y, nameof(y)), yShape, Mem(x, nameof(x)), xShape);
        KeepAlive(y, x);
    }

    public void BroadcastTo(DeviceBuffer y, int[] yShape, DeviceBuffer x, int[] xShape)
    {
        CheckLength(y, Shapes.Product(yShape), nameof(y));
        CheckLength(x, Shapes.Product(xShape), nameof(x));
        Device.BroadcastToForward(Mem(y, nameof(y)), yShape, Mem(x, nameof(x)), xShape);
        KeepAlive(y, x);
    }

    public void CopyAxisSlice(DeviceBuffer dst, int dstAxis, int dstStart, DeviceBuffer src, int srcAxis, int srcStart, int outer, int length, int inner, bool accumulate)
    {
        CheckLength(dst, (long)outer * dstAxis * inner, nameof(dst));
        CheckLength(src, (long)outer * srcAxis * inner, nameof(src));
        Device.CopyAxisSlice(Mem(dst, nameof(dst)), dstAxis, dstStart, Mem(src, nameof(src)), srcAxis, srcStart, outer, length, inner, accumulate);
        KeepAlive(dst, src);
    }

    // ---- matrix multiply: cuBLAS on a GPU, the CPU backend's SGEMM here ----

    public void Gemm(bool transA, bool transB, int m, int n, int k, double alpha,
                     DeviceBuffer a, int aOffset, int lda, long strideA,
                     DeviceBuffer b, int bOffset, int ldb, long strideB,
                     double beta, DeviceBuffer c, int cOffset, int ldc, long strideC, int batch = 1)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be >= 1");
        var ba = Buf(a, nameof(a));
        var bb = Buf(b, nameof(b));
        var bc = Buf(c, nameof(c));
        for (int i = 0; i < batch; i++)
        {
            int ao = checked((int)(aOffset + i * strideA)), bo = checked((int)(bOffset + i * strideB)), co = checked((int)(cOffset + i * strideC));
            Cpu.Gemm.Sgemm(transA, transB, m, n, k, (float)alpha, ba.Span.Slice(ao), lda, bb.Span.Slice(bo), ldb,
                (float)beta, bc.Span.Slice(co), ldc, Parallelism.MaxThreads);
        }
        KeepAlive(ba, bb, bc);
    }

    // ---- convolution (kernels/conv.cuh) ----

    public void Conv2dForward(DeviceBuffer y, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, ConvGeometry g)
    {
        CheckConv(g, x, w, y, bias);
        Device.Conv2dForward(Mem(y, nameof(y)), Mem(x, nameof(x)), Mem(w, nameof(w)), MemOrNull(bias, nameof(bias)), g);
        KeepAlive(y, x, w, bias);
    }

    public void Conv2dBackwardInput(DeviceBuffer dx, DeviceBuffer dy, DeviceBuffer w, ConvGeometry g)
    {
        CheckConv(g, dx, w, dy, null);
        Device.Conv2dBackwardInput(Mem(dx, nameof(dx)), Mem(dy, nameof(dy)), Mem(w, nameof(w)), g);
        KeepAlive(dx, dy, w);
    }

    public void Conv2dBackwardWeight(DeviceBuffer dw, DeviceBuffer? dbias, DeviceBuffer dy, DeviceBuffer x, ConvGeometry g)
    {
        CheckConv(g, x, dw, dy, dbias);
        // The weight and bias gradients are separate kernels on the device: two launches.
        Device.Conv2dBackwardWeight(Mem(dw, nameof(dw)), Mem(dy, nameof(dy)), Mem(x, nameof(x)), g);
        if (dbias is not null) Device.Conv2dBackwardBias(Mem(dbias, nameof(dbias)), Mem(dy, nameof(dy)), g);
        KeepAlive(dw, dbias, dy, x);
    }

    // ---- batch normalisation (kernels/batchnorm.cuh) ----

    public void BatchNormForwardTraining(DeviceBuffer y, DeviceBuffer saveMean, DeviceBuffer saveInvStd, DeviceBuffer x,
        DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer? runningMean, DeviceBuffer? runningVar,
        int n, int c, int spatial, double eps, double momentum)
    {
        CheckBatchNorm(x, y, n, c, spatial);
        Device.BatchNormForwardTraining(Mem(y, nameof(y)), Mem(saveMean, nameof(saveMean)), Mem(saveInvStd, nameof(saveInvStd)), Mem(x, nameof(x)),
            MemOrNull(gamma, nameof(gamma)), MemOrNull(beta, nameof(beta)), MemOrNull(runningMean, nameof(runningMean)), MemOrNull(runningVar, nameof(runningVar)),
            n, c, spatial, eps, momentum);
        KeepAlive(y, saveMean, saveInvStd, x, gamma, beta, runningMean, runningVar);
    }

    public void BatchNormForwardInference(DeviceBuffer y, DeviceBuffer x, DeviceBuffer runningMean, DeviceBuffer runningVar,
        DeviceBuffer? gamma, DeviceBuffer? beta, int n, int c, int spatial, double eps)
    {
        CheckBatchNorm(x, y, n, c, spatial);
        Device.BatchNormForwardInference(Mem(y, nameof(y)), Mem(x, nameof(x)), Mem(runningMean, nameof(runningMean)), Mem(runningVar, nameof(runningVar)),
            MemOrNull(gamma, nameof(gamma)), MemOrNull(beta, nameof(beta)), n, c, spatial, eps);
        KeepAlive(y, x, runningMean, runningVar, gamma, beta);
    }

    public void BatchNormBackward(DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, DeviceBuffer dy, DeviceBuffer x,
        DeviceBuffer saveMean, DeviceBuffer saveInvStd, DeviceBuffer? gamma, int n, int c, int spatial)
    {
        CheckBatchNorm(x, dy, n, c, spatial);
        Device.BatchNormBackward(Mem(dx, nameof(dx)), MemOrNull(dgamma, nameof(dgamma)), MemOrNull(dbeta, nameof(dbeta)), Mem(dy, nameof(dy)), Mem(x, nameof(x)),
            Mem(saveMean, nameof(saveMean)), Mem(saveInvStd, nameof(saveInvStd)), MemOrNull(gamma, nameof(gamma)), n, c, spatial);
        KeepAlive(dx, dgamma, dbeta, dy, x, saveMean, saveInvStd, gamma);
    }

    public void BatchNormBackwardInference(DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, DeviceBuffer dy, DeviceBuffer x,
        DeviceBuffer runningMean, DeviceBuffer runningVar, DeviceBuffer? gamma, int n, int c, int spatial, double eps)
    {
        CheckBatchNorm(x, dy, n, c, spatial);
        Device.BatchNormBackwardInference(Mem(dx, nameof(dx)), MemOrNull(dgamma, nameof(dgamma)), MemOrNull(dbeta, nameof(dbeta)), Mem(dy, nameof(dy)), Mem(x, nameof(x)),
            Mem(runningMean, nameof(runningMean)), Mem(runningVar, nameof(runningVar)), MemOrNull(gamma, nameof(gamma)), n, c, spatial, eps);
        KeepAlive(dx, dgamma, dbeta, dy, x, runningMean, runningVar, gamma);
    }

    // ---- softmax (kernels/softmax.cuh) ----

    public void SoftmaxForward(DeviceBuffer y, DeviceBuffer x, int rows, int cols)
    {
        CheckLength(x, (long)rows * cols, nameof(x));
        CheckLength(y, (long)rows * cols, nameof(y));
        Device.SoftmaxForward(Mem(y, nameof(y)), Mem(x, nameof(x)), rows, cols);
        KeepAlive(y, x);
    }

    public void SoftmaxBackward(DeviceBuffer dx, DeviceBuffer dy, DeviceBuffer y, int rows, int cols)
    {
        CheckLength(dy, (long)rows * cols, nameof(dy));
        CheckLength(dx, (long)rows * cols, nameof(dx));
        CheckLength(y, (long)rows * cols, nameof(y));
        Device.SoftmaxBackward(Mem(dx, nameof(dx)), Mem(dy, nameof(dy)), Mem(y, nameof(y)), rows, cols);
        KeepAlive(dx, dy, y);
    }

    // ---- bilinear 2x upsampling (kernels/upsample.cuh) ----

    public void UpsampleBilinear2xForward(DeviceBuffer y, DeviceBuffer x, int planes, int h, int w)
    {
        CheckLength(x, (long)planes * h * w, nameof(x));
        CheckLength(y, (long)planes * 4 * h * w, nameof(y));
        Device.UpsampleBilinear2xForward(Mem(y, nameof(y)), Mem(x, nameof(x)), planes, h, w);
        KeepAlive(y, x);
    }

    public void UpsampleBilinear2xBackward(DeviceBuffer dx, DeviceBuffer dy, int planes, int h, int w)
    {
        CheckLength(dx, (long)planes * h * w, nameof(dx));
        CheckLength(dy, (long)planes * 4 * h * w, nameof(dy));
        Device.UpsampleBilinear2xBackward(Mem(dx, nameof(dx)), Mem(dy, nameof(dy)), planes, h, w);
        KeepAlive(dx, dy);
    }

    // ---- FFT: cuFFT on a GPU, the CPU backend's FFT here ----

    public void Rfft2(DeviceBuffer y, DeviceBuffer x, int batch, int h, int w)
    {
        CheckLength(x, (long)batch * h * w, nameof(x));
        CheckLength(y, (long)batch * h * (w / 2 + 1) * 2, nameof(y));
        var by = Buf(y, nameof(y));
        var bx = Buf(x, nameof(x));
        Cpu.Fft.Rfft2<float>(by.Span, bx.Span, batch, h, w);
        KeepAlive(by, bx);
    }

    public void Irfft2(DeviceBuffer x, DeviceBuffer c, int batch, int h, int w)
    {
        CheckLength(x, (long)batch * h * w, nameof(x));
        CheckLength(c, (long)batch * h * (w / 2 + 1) * 2, nameof(c));
        var bx = Buf(x, nameof(x));
        var bc = Buf(c, nameof(c));
        Cpu.Fft.Irfft2<float>(bx.Span, bc.Span, batch, h, w);
        KeepAlive(bx, bc);
    }

    // ---- optimisers (kernels/optim.cuh) ----

    public void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, AdamStepParameters p)
    {
        CheckLength(grad, param.Length, nameof(grad));
        CheckLength(m, param.Length, nameof(m));
        CheckLength(v, param.Length, nameof(v));
        Device.AdamUpdate(Mem(param, nameof(param)), Mem(m, nameof(m)), Mem(v, nameof(v)), Mem(grad, nameof(grad)), param.Length, p);
        KeepAlive(param, grad, m, v);
    }

    public void SgdStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer? momentumBuffer, double learningRate, double momentum, double dampening, double weightDecay, bool firstStep)
    {
        CheckLength(grad, param.Length, nameof(grad));
        if (momentumBuffer is not null) CheckLength(momentumBuffer, param.Length, nameof(momentumBuffer));
        Device.SgdUpdate(Mem(param, nameof(param)), MemOrNull(momentumBuffer, nameof(momentumBuffer)), Mem(grad, nameof(grad)), param.Length,
            learningRate, momentum, dampening, weightDecay, firstStep);
        KeepAlive(param, grad, momentumBuffer);
    }

    // ---- helpers ----

    private EmulatedDeviceBuffer Buf(DeviceBuffer buffer, string name)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer is not EmulatedDeviceBuffer e || !ReferenceEquals(buffer.Backend, this))
            throw new ArgumentException($"{name}: a buffer of backend '{buffer.Backend.Name}' passed to this emulated CUDA backend.", name);
        return e;
    }

    private EmulatedBuffer Mem(DeviceBuffer buffer, string name) => Buf(buffer, name).Memory;

    private EmulatedBuffer? MemOrNull(DeviceBuffer? buffer, string name) => buffer is null ? null : Mem(buffer, name);

    /// <summary>
    /// Keeps the buffers reachable until the launch has returned: a launch carries only raw device pointers, and a
    /// buffer the caller no longer references could otherwise be finalised (its memory freed) mid-kernel.
    /// </summary>
    private static void KeepAlive(params DeviceBuffer?[] buffers) => GC.KeepAlive(buffers);

    private static void CheckLength(DeviceBuffer b, long expected, string name)
    {
        if (b.Length != expected)
            throw new ArgumentException($"{name} has {b.Length} elements, expected {expected}.", name);
    }

    private static void CheckConv(ConvGeometry g, DeviceBuffer x, DeviceBuffer w, DeviceBuffer y, DeviceBuffer? bias)
    {
        CheckLength(x, g.InputLength, "input");
        CheckLength(w, g.WeightLength, "weight");
        CheckLength(y, g.OutputLength, "output");
        if (bias is not null) CheckLength(bias, g.OutChannels, "bias");
    }

    private static void CheckBatchNorm(DeviceBuffer x, DeviceBuffer y, int n, int c, int spatial)
    {
        CheckLength(x, (long)n * c * spatial, nameof(x));
        CheckLength(y, (long)n * c * spatial, nameof(y));
    }
}

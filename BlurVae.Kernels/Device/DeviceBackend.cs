using BlurVae.Kernels.Cpu;

namespace BlurVae.Kernels.Device;

/// <summary>
/// The CUDA backend's code path over a <see cref="GpuDevice"/>: every op launches the kernels of kernels/*.cuh
/// through the device's launchers (GpuDevice.&lt;Family&gt;.cs); matrix products are cuBLAS and FFTs cuFFT. The
/// same code drives the real GPU (<see cref="Cuda.CudaBackend"/>) and the host emulation
/// (<see cref="Emulated.EmulatedBackend"/>), so CI runs it without a GPU. Float32 only: the kernels are float.
/// </summary>
public abstract class DeviceBackend : IBackend
{
    protected DeviceBackend(GpuDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
    }

    public abstract string Name { get; }

    public GpuDevice Device { get; }

    // ---- memory ----

    public BackendBuffer Allocate(DType dtype, int length)
    {
        CheckFloat32(dtype);
        // GpuDevice.Allocate zero-fills, as IBackend requires.
        return new DeviceBuffer(this, Device.Allocate(length));
    }

    public BackendBuffer AllocateUninitialized(DType dtype, int length)
    {
        CheckFloat32(dtype);
        return new DeviceBuffer(this, Device.Allocate(length, zeroed: false));
    }

    private void CheckFloat32(DType dtype)
    {
        if (dtype != DType.Float32)
            throw new NotSupportedException($"The {Name} backend holds float32 only (its kernels are float); cannot allocate a {dtype} buffer. Use --dtype float32, or the CPU backend for {dtype}.");
    }

    public void Upload(BackendBuffer dst, ReadOnlySpan<float> src)
    {
        ShapeRules.Length(dst, src.Length, nameof(dst));
        Device.Upload(Mem(dst, nameof(dst)), src);
        GC.KeepAlive(dst);
    }

    // The buffers hold float32: doubles are narrowed on the host, then moved as floats (whose overload checks the length).
    public void Upload(BackendBuffer dst, ReadOnlySpan<double> src) => Upload(dst, Narrowed(src));

    private static float[] Narrowed(ReadOnlySpan<double> src)
    {
        var narrowed = new float[src.Length];
        System.Numerics.Tensors.TensorPrimitives.ConvertTruncating<double, float>(src, narrowed);
        return narrowed;
    }

    public void Download(BackendBuffer src, Span<float> dst)
    {
        ShapeRules.Length(src, dst.Length, nameof(src));
        Device.Download(Mem(src, nameof(src)), dst);
        GC.KeepAlive(src);
    }

    public void Download(BackendBuffer src, Span<double> dst)
    {
        var single = new float[dst.Length];
        Download(src, single);
        System.Numerics.Tensors.TensorPrimitives.ConvertChecked<float, double>(single, dst);
    }

    public void Copy(BackendBuffer dst, BackendBuffer src)
    {
        ShapeRules.Length(dst, src.Length, nameof(dst));
        Device.Copy(Mem(dst, nameof(dst)), 0, Mem(src, nameof(src)), 0, src.Length);
        KeepAlive(dst, src);
    }

    public void Fill(BackendBuffer dst, double value)
    {
        Device.Fill(Mem(dst, nameof(dst)), (float)value);
        GC.KeepAlive(dst);
    }

    // ---- elementwise ----

    public void UnaryForward(UnaryOp op, BackendBuffer y, BackendBuffer x, double alpha)
    {
        ShapeRules.Length(y, x.Length, nameof(y));
        Device.UnaryForward(op, Mem(y, nameof(y)), Mem(x, nameof(x)), x.Length, alpha);
        KeepAlive(y, x);
    }

    public void UnaryBackward(UnaryOp op, BackendBuffer dx, BackendBuffer dy, BackendBuffer x, BackendBuffer y, double alpha)
    {
        ShapeRules.Length(dx, dy.Length, nameof(dx));
        ShapeRules.Length(x, dy.Length, nameof(x));
        ShapeRules.Length(y, dy.Length, nameof(y));
        Device.UnaryBackward(op, Mem(dx, nameof(dx)), Mem(dy, nameof(dy)), Mem(x, nameof(x)), Mem(y, nameof(y)), dy.Length, alpha);
        KeepAlive(dx, dy, x, y);
    }

    public void BinaryForward(BinaryOp op, BackendBuffer y, int[] yShape, BackendBuffer a, int[] aShape, BackendBuffer b, int[] bShape)
    {
        ShapeRules.Length(y, Shapes.Product(yShape), nameof(y));
        ShapeRules.Length(a, Shapes.Product(aShape), nameof(a));
        ShapeRules.Length(b, Shapes.Product(bShape), nameof(b));
        Device.BinaryForward(op, Mem(y, nameof(y)), yShape, Mem(a, nameof(a)), aShape, Mem(b, nameof(b)), bShape);
        KeepAlive(y, a, b);
    }

    public void Axpby(BackendBuffer y, double alpha, BackendBuffer x, double beta)
    {
        ShapeRules.Length(y, x.Length, nameof(y));
        Device.Axpby(Mem(y, nameof(y)), alpha, Mem(x, nameof(x)), beta, x.Length);
        KeepAlive(y, x);
    }

    public void AxpbyGroup(IReadOnlyList<BackendBuffer> y, double alpha, IReadOnlyList<BackendBuffer> x, double beta)
    {
        if (x.Count != y.Count) throw new ArgumentException($"{y.Count} outputs but {x.Count} inputs.", nameof(x));
        for (int k = 0; k < y.Count; k++) ShapeRules.Length(y[k], x[k].Length, $"y[{k}]");
        Device.AxpbyGroup(MemoryOf(y, nameof(y)), alpha, MemoryOf(x, nameof(x)), [.. x.Select(b => b.Length)], beta);
        GC.KeepAlive(y);
        GC.KeepAlive(x);
    }

    public void WeightedSumForward(BackendBuffer y, IReadOnlyList<BackendBuffer> x, IReadOnlyList<double> weights)
    {
        ShapeRules.WeightedSum(x, weights, y.Length, nameof(x));
        Device.WeightedSumForward(Mem(y, nameof(y)), MemoryOf(x, nameof(x)), weights, y.Length);
        KeepAlive(y);
        GC.KeepAlive(x);
    }

    public void WeightedSumBackward(IReadOnlyList<BackendBuffer> dx, IReadOnlyList<double> weights, BackendBuffer dy)
    {
        ShapeRules.WeightedSum(dx, weights, dy.Length, nameof(dx));
        Device.WeightedSumBackward(MemoryOf(dx, nameof(dx)), weights, Mem(dy, nameof(dy)), dy.Length);
        KeepAlive(dy);
        GC.KeepAlive(dx);
    }

    // ---- reductions and broadcasts ----

    public void NarrowBackward(BackendBuffer dx, int axis, int start, BackendBuffer dy, int outer, int length, int inner)
    {
        ShapeRules.Length(dx, (long)outer * axis * inner, nameof(dx));
        ShapeRules.Length(dy, (long)outer * length * inner, nameof(dy));
        Device.NarrowBackward(Mem(dx, nameof(dx)), axis, start, Mem(dy, nameof(dy)), outer, length, inner);
        KeepAlive(dx, dy);
    }

    public void SplitForward(BackendBuffer a, BackendBuffer b, BackendBuffer x, int outer, int half, int inner)
    {
        long n = (long)outer * half * inner;
        ShapeRules.Length(a, n, nameof(a));
        ShapeRules.Length(b, n, nameof(b));
        ShapeRules.Length(x, 2 * n, nameof(x));
        Device.SplitForward(Mem(a, nameof(a)), Mem(b, nameof(b)), Mem(x, nameof(x)), outer, half, inner);
        KeepAlive(a, b, x);
    }

    public void SplitBackward(BackendBuffer dx, BackendBuffer? da, BackendBuffer? db, int outer, int half, int inner)
    {
        long n = (long)outer * half * inner;
        ShapeRules.Length(dx, 2 * n, nameof(dx));
        if (da is not null) ShapeRules.Length(da, n, nameof(da));
        if (db is not null) ShapeRules.Length(db, n, nameof(db));
        Device.SplitBackward(Mem(dx, nameof(dx)), MemOrNull(da, nameof(da)), MemOrNull(db, nameof(db)), outer, half, inner);
        KeepAlive(dx, da, db);
    }

    public void BiasActivationForward(BackendBuffer y, BackendBuffer? bias, int rows, int cols, UnaryOp? activation, double alpha)
    {
        ShapeRules.Length(y, (long)rows * cols, nameof(y));
        if (bias is not null) ShapeRules.Length(bias, cols, nameof(bias));
        Device.BiasActivationForward(Mem(y, nameof(y)), MemOrNull(bias, nameof(bias)), rows, cols, activation, alpha);
        KeepAlive(y, bias);
    }

    public void BiasActivationBackward(BackendBuffer dPre, BackendBuffer? dBias, BackendBuffer dy, BackendBuffer y, int rows, int cols, UnaryOp? activation, double alpha)
    {
        long n = (long)rows * cols;
        ShapeRules.Length(dPre, n, nameof(dPre));
        ShapeRules.Length(dy, n, nameof(dy));
        ShapeRules.Length(y, n, nameof(y));
        if (dBias is not null) ShapeRules.Length(dBias, cols, nameof(dBias));
        Device.BiasActivationBackward(Mem(dPre, nameof(dPre)), MemOrNull(dBias, nameof(dBias)), Mem(dy, nameof(dy)), Mem(y, nameof(y)), rows, cols, activation, alpha);
        KeepAlive(dPre, dBias, dy, y);
    }

    public void SumTo(BackendBuffer y, int[] yShape, BackendBuffer x, int[] xShape)
    {
        ShapeRules.Length(y, Shapes.Product(yShape), nameof(y));
        ShapeRules.Length(x, Shapes.Product(xShape), nameof(x));
        Device.SumToForward(Mem(y, nameof(y)), yShape, Mem(x, nameof(x)), xShape);
        KeepAlive(y, x);
    }

    public void BroadcastTo(BackendBuffer y, int[] yShape, BackendBuffer x, int[] xShape)
    {
        ShapeRules.Length(y, Shapes.Product(yShape), nameof(y));
        ShapeRules.Length(x, Shapes.Product(xShape), nameof(x));
        Device.BroadcastToForward(Mem(y, nameof(y)), yShape, Mem(x, nameof(x)), xShape);
        KeepAlive(y, x);
    }

    public void CopyAxisSlice(BackendBuffer dst, int dstAxis, int dstStart, BackendBuffer src, int srcAxis, int srcStart, int outer, int length, int inner, bool accumulate)
    {
        ShapeRules.Length(dst, (long)outer * dstAxis * inner, nameof(dst));
        ShapeRules.Length(src, (long)outer * srcAxis * inner, nameof(src));
        Device.CopyAxisSlice(Mem(dst, nameof(dst)), dstAxis, dstStart, Mem(src, nameof(src)), srcAxis, srcStart, outer, length, inner, accumulate);
        KeepAlive(dst, src);
    }

    // ---- matrix multiply: cuBLAS (the CPU GEMM on the emulated device) ----

    public void Gemm(bool transA, bool transB, int m, int n, int k, double alpha,
                     BackendBuffer a, int aOffset, int lda, long strideA,
                     BackendBuffer b, int bOffset, int ldb, long strideB,
                     double beta, BackendBuffer c, int cOffset, int ldc, long strideC, int batch = 1)
    {
        Device.Gemm(transA, transB, m, n, k, (float)alpha, Mem(a, nameof(a)), aOffset, lda, strideA,
            Mem(b, nameof(b)), bOffset, ldb, strideB, (float)beta, Mem(c, nameof(c)), cOffset, ldc, strideC, batch);
        KeepAlive(a, b, c);
    }

    // ---- convolution (kernels/conv.cuh) ----

    public void Conv2dForward(BackendBuffer y, BackendBuffer x, BackendBuffer w, BackendBuffer? bias, ConvGeometry g, BackendBuffer? statistics = null)
    {
        ShapeRules.Conv(g, x, w, y, bias);
        if (statistics is not null) ShapeRules.Length(statistics, 2L * g.OutChannels, nameof(statistics));
        Device.Conv2dForward(Mem(y, nameof(y)), Mem(x, nameof(x)), Mem(w, nameof(w)), MemOrNull(bias, nameof(bias)), g,
            statistics: MemOrNull(statistics, nameof(statistics)));
        KeepAlive(y, x, w, bias, statistics);
    }

    public void Conv2dBackwardInput(BackendBuffer dx, BackendBuffer dy, BackendBuffer w, ConvGeometry g, BackendBuffer? bias = null, BackendBuffer? statistics = null)
    {
        ShapeRules.Conv(g, dx, w, dy, null);
        if (bias is not null) ShapeRules.Length(bias, g.InChannels, "bias");
        if (statistics is not null) ShapeRules.Length(statistics, 2L * g.InChannels, nameof(statistics));
        Device.Conv2dBackwardInput(Mem(dx, nameof(dx)), Mem(dy, nameof(dy)), Mem(w, nameof(w)), g, bias: MemOrNull(bias, nameof(bias)),
            statistics: MemOrNull(statistics, nameof(statistics)));
        KeepAlive(dx, dy, w, bias, statistics);
    }

    public void Conv2dBackwardWeight(BackendBuffer dw, BackendBuffer? dbias, BackendBuffer dy, BackendBuffer x, ConvGeometry g)
    {
        ShapeRules.Conv(g, x, dw, dy, dbias);
        // The weight and bias gradients are separate kernels on the device: two launches.
        Device.Conv2dBackwardWeight(Mem(dw, nameof(dw)), Mem(dy, nameof(dy)), Mem(x, nameof(x)), g);
        if (dbias is not null) Device.Conv2dBackwardBias(Mem(dbias, nameof(dbias)), Mem(dy, nameof(dy)), g);
        KeepAlive(dw, dbias, dy, x);
    }

    // ---- batch normalisation (kernels/batchnorm.cuh) ----

    public void BatchNormForwardTraining(BackendBuffer y, BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer x,
        BackendBuffer? gamma, BackendBuffer? beta, BackendBuffer? runningMean, BackendBuffer? runningVar,
        int n, int c, int spatial, double eps, double momentum, BackendBuffer? statistics = null)
    {
        CheckBatchNorm(x, y, n, c, spatial, statistics);
        Device.BatchNormForwardTraining(Mem(y, nameof(y)), Mem(saveMean, nameof(saveMean)), Mem(saveInvStd, nameof(saveInvStd)), Mem(x, nameof(x)),
            MemOrNull(gamma, nameof(gamma)), MemOrNull(beta, nameof(beta)), MemOrNull(runningMean, nameof(runningMean)), MemOrNull(runningVar, nameof(runningVar)),
            n, c, spatial, eps, momentum, statistics: MemOrNull(statistics, nameof(statistics)));
        KeepAlive(y, saveMean, saveInvStd, x, gamma, beta, runningMean, runningVar, statistics);
    }

    public void BatchNormForwardInference(BackendBuffer y, BackendBuffer x, BackendBuffer runningMean, BackendBuffer runningVar,
        BackendBuffer? gamma, BackendBuffer? beta, int n, int c, int spatial, double eps)
    {
        CheckBatchNorm(x, y, n, c, spatial);
        Device.BatchNormForwardInference(Mem(y, nameof(y)), Mem(x, nameof(x)), Mem(runningMean, nameof(runningMean)), Mem(runningVar, nameof(runningVar)),
            MemOrNull(gamma, nameof(gamma)), MemOrNull(beta, nameof(beta)), n, c, spatial, eps);
        KeepAlive(y, x, runningMean, runningVar, gamma, beta);
    }

    public void BatchNormBackward(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer x,
        BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer? gamma, int n, int c, int spatial)
    {
        CheckBatchNorm(x, dy, n, c, spatial);
        Device.BatchNormBackward(Mem(dx, nameof(dx)), MemOrNull(dgamma, nameof(dgamma)), MemOrNull(dbeta, nameof(dbeta)), Mem(dy, nameof(dy)), Mem(x, nameof(x)),
            Mem(saveMean, nameof(saveMean)), Mem(saveInvStd, nameof(saveInvStd)), MemOrNull(gamma, nameof(gamma)), n, c, spatial);
        KeepAlive(dx, dgamma, dbeta, dy, x, saveMean, saveInvStd, gamma);
    }

    public void BatchNormBackwardInference(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer x,
        BackendBuffer runningMean, BackendBuffer runningVar, BackendBuffer? gamma, int n, int c, int spatial, double eps)
    {
        CheckBatchNorm(x, dy, n, c, spatial);
        Device.BatchNormBackwardInference(Mem(dx, nameof(dx)), MemOrNull(dgamma, nameof(dgamma)), MemOrNull(dbeta, nameof(dbeta)), Mem(dy, nameof(dy)), Mem(x, nameof(x)),
            Mem(runningMean, nameof(runningMean)), Mem(runningVar, nameof(runningVar)), MemOrNull(gamma, nameof(gamma)), n, c, spatial, eps);
        KeepAlive(dx, dgamma, dbeta, dy, x, runningMean, runningVar, gamma);
    }

    public void BatchNormLeakyReluForwardTraining(BackendBuffer y, BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer x,
        BackendBuffer? gamma, BackendBuffer? beta, BackendBuffer? runningMean, BackendBuffer? runningVar,
        int n, int c, int spatial, double eps, double momentum, double negativeSlope, BackendBuffer? statistics = null)
    {
        CheckBatchNorm(x, y, n, c, spatial, statistics);
        Device.BatchNormLeakyReluForward(Mem(y, nameof(y)), Mem(saveMean, nameof(saveMean)), Mem(saveInvStd, nameof(saveInvStd)), Mem(x, nameof(x)),
            MemOrNull(gamma, nameof(gamma)), MemOrNull(beta, nameof(beta)), MemOrNull(runningMean, nameof(runningMean)), MemOrNull(runningVar, nameof(runningVar)),
            n, c, spatial, eps, momentum, negativeSlope, statistics: MemOrNull(statistics, nameof(statistics)));
        KeepAlive(y, saveMean, saveInvStd, x, gamma, beta, runningMean, runningVar, statistics);
    }

    public void BatchNormLeakyReluBackward(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer y, BackendBuffer x,
        BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer? gamma, int n, int c, int spatial, double negativeSlope)
    {
        CheckBatchNorm(x, dy, n, c, spatial);
        Device.BatchNormLeakyReluBackward(Mem(dx, nameof(dx)), MemOrNull(dgamma, nameof(dgamma)), MemOrNull(dbeta, nameof(dbeta)), Mem(dy, nameof(dy)), Mem(y, nameof(y)),
            Mem(x, nameof(x)), Mem(saveMean, nameof(saveMean)), Mem(saveInvStd, nameof(saveInvStd)), MemOrNull(gamma, nameof(gamma)), n, c, spatial, negativeSlope);
        KeepAlive(dx, dgamma, dbeta, dy, y, x, saveMean, saveInvStd, gamma);
    }

    // ---- softmax (kernels/softmax.cuh) ----

    public void SoftmaxForward(BackendBuffer y, BackendBuffer x, int rows, int cols)
    {
        ShapeRules.Length(x, (long)rows * cols, nameof(x));
        ShapeRules.Length(y, (long)rows * cols, nameof(y));
        Device.SoftmaxForward(Mem(y, nameof(y)), Mem(x, nameof(x)), rows, cols);
        KeepAlive(y, x);
    }

    public void SoftmaxBackward(BackendBuffer dx, BackendBuffer dy, BackendBuffer y, int rows, int cols)
    {
        ShapeRules.Length(dy, (long)rows * cols, nameof(dy));
        ShapeRules.Length(dx, (long)rows * cols, nameof(dx));
        ShapeRules.Length(y, (long)rows * cols, nameof(y));
        Device.SoftmaxBackward(Mem(dx, nameof(dx)), Mem(dy, nameof(dy)), Mem(y, nameof(y)), rows, cols);
        KeepAlive(dx, dy, y);
    }

    // ---- bilinear resize (kernels/resize.cuh) ----

    public void ResizeBilinearForward(BackendBuffer y, BackendBuffer x, int planes, int inH, int inW, int outH, int outW)
    {
        ShapeRules.Length(x, (long)planes * inH * inW, nameof(x));
        ShapeRules.Length(y, (long)planes * outH * outW, nameof(y));
        Device.ResizeBilinearForward(Mem(y, nameof(y)), Mem(x, nameof(x)), planes, inH, inW, outH, outW);
        KeepAlive(y, x);
    }

    public void ResizeBilinearBackward(BackendBuffer dx, BackendBuffer dy, int planes, int inH, int inW, int outH, int outW)
    {
        ShapeRules.Length(dx, (long)planes * inH * inW, nameof(dx));
        ShapeRules.Length(dy, (long)planes * outH * outW, nameof(dy));
        Device.ResizeBilinearBackward(Mem(dx, nameof(dx)), Mem(dy, nameof(dy)), planes, inH, inW, outH, outW);
        KeepAlive(dx, dy);
    }

    // ---- pooling (kernels/pool.cuh) ----

    public void Pool2dForward(BackendBuffer y, BackendBuffer x, PoolGeometry g)
    {
        ShapeRules.Length(x, g.InputLength, nameof(x));
        ShapeRules.Length(y, g.OutputLength, nameof(y));
        Device.Pool2dForward(Mem(y, nameof(y)), Mem(x, nameof(x)), g);
        KeepAlive(y, x);
    }

    public void Pool2dBackward(BackendBuffer dx, BackendBuffer dy, BackendBuffer x, PoolGeometry g)
    {
        ShapeRules.Length(dx, g.InputLength, nameof(dx));
        ShapeRules.Length(dy, g.OutputLength, nameof(dy));
        ShapeRules.Length(x, g.InputLength, nameof(x));
        Device.Pool2dBackward(Mem(dx, nameof(dx)), Mem(dy, nameof(dy)), Mem(x, nameof(x)), g);
        KeepAlive(dx, dy, x);
    }

    // ---- FFT: cuFFT (the CPU FFT on the emulated device) ----

    public void Rfft2(BackendBuffer y, BackendBuffer x, int batch, int h, int w)
    {
        ShapeRules.Length(x, (long)batch * h * w, nameof(x));
        ShapeRules.Length(y, (long)batch * h * (w / 2 + 1) * 2, nameof(y));
        Device.Rfft2(Mem(y, nameof(y)), Mem(x, nameof(x)), batch, h, w);
        KeepAlive(y, x);
    }

    public void Irfft2(BackendBuffer x, BackendBuffer c, int batch, int h, int w, bool overwriteInput = false)
    {
        ShapeRules.Length(x, (long)batch * h * w, nameof(x));
        ShapeRules.Length(c, (long)batch * h * (w / 2 + 1) * 2, nameof(c));
        Device.Irfft2(Mem(x, nameof(x)), Mem(c, nameof(c)), batch, h, w, overwriteInput);
        KeepAlive(x, c);
    }

    // ---- fused loss pieces (kernels/wiener.cuh, kernels/losses.cuh); the launchers check the sizes ----

    public void BlurKernelToOtfForward(BackendBuffer output, BackendBuffer kernel, int n, int kernelSize, int height, int width)
    {
        Device.BlurKernelToOtfForward(Mem(output, nameof(output)), Mem(kernel, nameof(kernel)), n, kernelSize, height, width);
        KeepAlive(output, kernel);
    }

    public void BlurKernelToOtfBackward(BackendBuffer dKernel, BackendBuffer dOutput, int n, int kernelSize, int height, int width)
    {
        Device.BlurKernelToOtfBackward(Mem(dKernel, nameof(dKernel)), Mem(dOutput, nameof(dOutput)), n, kernelSize, height, width);
        KeepAlive(dKernel, dOutput);
    }

    public void WienerWeightForward(BackendBuffer loss, BackendBuffer perImage, BackendBuffer fk, BackendBuffer e, int n, int channels, int height, int width,
                                    double constant, double scale)
    {
        Device.WienerWeightForward(Mem(loss, nameof(loss)), Mem(perImage, nameof(perImage)), Mem(fk, nameof(fk)), Mem(e, nameof(e)), n, channels, height, width,
            (float)constant, (float)scale);
        KeepAlive(loss, perImage, fk, e);
    }

    public void WienerWeightBackward(BackendBuffer de, BackendBuffer dfk, BackendBuffer dLoss, BackendBuffer fk, BackendBuffer e,
                                     int n, int channels, int height, int width, double constant, double scale)
    {
        Device.WienerWeightBackward(Mem(de, nameof(de)), Mem(dfk, nameof(dfk)), Mem(dLoss, nameof(dLoss)), Mem(fk, nameof(fk)), Mem(e, nameof(e)),
            n, channels, height, width, (float)constant, (float)scale);
        KeepAlive(de, dfk, dLoss, fk, e);
    }

    public void BlurKernelFitForward(BackendBuffer loss, BackendBuffer perImage, BackendBuffer x, BackendBuffer xHat, BackendBuffer fk,
                                     int n, int channels, int height, int width, double scale)
    {
        Device.BlurKernelFitForward(Mem(loss, nameof(loss)), Mem(perImage, nameof(perImage)), Mem(x, nameof(x)), Mem(xHat, nameof(xHat)), Mem(fk, nameof(fk)),
            n, channels, height, width, (float)scale);
        KeepAlive(loss, perImage, x, xHat, fk);
    }

    public void BlurKernelFitBackward(BackendBuffer dXHat, BackendBuffer dFk, BackendBuffer dLoss, BackendBuffer x, BackendBuffer xHat, BackendBuffer fk,
                                  int n, int channels, int height, int width, double scale)
    {
        Device.BlurKernelFitBackward(Mem(dXHat, nameof(dXHat)), Mem(dFk, nameof(dFk)), Mem(dLoss, nameof(dLoss)), Mem(x, nameof(x)), Mem(xHat, nameof(xHat)), Mem(fk, nameof(fk)),
            n, channels, height, width, (float)scale);
        KeepAlive(dXHat, dFk, dLoss, x, xHat, fk);
    }

    public void FocalFrequencyWeight(BackendBuffer weight, BackendBuffer spectrum, int planes, int height, int width, double alpha)
    {
        Device.FocalFrequencyWeight(Mem(weight, nameof(weight)), Mem(spectrum, nameof(spectrum)), planes, 1, height, width, (float)alpha);
        KeepAlive(weight, spectrum);
    }

    // ---- the VAE's latent pieces (kernels/vae.cuh); the launchers check the sizes ----

    public void ReparameterizeForward(BackendBuffer z, BackendBuffer mu, BackendBuffer logVar, BackendBuffer eps)
    {
        Device.ReparameterizeForward(Mem(z, nameof(z)), Mem(mu, nameof(mu)), Mem(logVar, nameof(logVar)), Mem(eps, nameof(eps)), z.Length);
        KeepAlive(z, mu, logVar, eps);
    }

    public void ReparameterizeBackward(BackendBuffer dMu, BackendBuffer dLogVar, BackendBuffer dz, BackendBuffer logVar, BackendBuffer eps)
    {
        Device.ReparameterizeBackward(Mem(dMu, nameof(dMu)), Mem(dLogVar, nameof(dLogVar)), Mem(dz, nameof(dz)), Mem(logVar, nameof(logVar)), Mem(eps, nameof(eps)), dz.Length);
        KeepAlive(dMu, dLogVar, dz, logVar, eps);
    }

    public void LatentForward(BackendBuffer z, BackendBuffer kl, BackendBuffer perSample, BackendBuffer stats, BackendBuffer eps, int n, int latent, double scale)
    {
        Device.LatentForward(Mem(z, nameof(z)), Mem(kl, nameof(kl)), Mem(perSample, nameof(perSample)), Mem(stats, nameof(stats)), Mem(eps, nameof(eps)), n, latent, (float)scale);
        KeepAlive(z, kl, perSample, stats, eps);
    }

    public void LatentBackward(BackendBuffer dStats, BackendBuffer? dz, BackendBuffer? dKl, BackendBuffer stats, BackendBuffer eps, int n, int latent, double scale)
    {
        Device.LatentBackward(Mem(dStats, nameof(dStats)), MemOrNull(dz, nameof(dz)), MemOrNull(dKl, nameof(dKl)), Mem(stats, nameof(stats)), Mem(eps, nameof(eps)), n, latent, (float)scale);
        KeepAlive(dStats, dz, dKl, stats, eps);
    }

    // ---- optimisers (kernels/optim.cuh) ----

    public void AdamStep(BackendBuffer param, BackendBuffer grad, BackendBuffer m, BackendBuffer v, AdamStepParameters p)
    {
        ShapeRules.Length(grad, param.Length, nameof(grad));
        ShapeRules.Length(m, param.Length, nameof(m));
        ShapeRules.Length(v, param.Length, nameof(v));
        Device.AdamUpdate(Mem(param, nameof(param)), Mem(m, nameof(m)), Mem(v, nameof(v)), Mem(grad, nameof(grad)), param.Length, p);
        KeepAlive(param, grad, m, v);
    }

    // One step state per optimiser group, found by the group's first parameter (alive as long as the group is).
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<BackendBuffer, AdamGroupState> _adamGroups = new();

    public void AdamStepGroup(IReadOnlyList<BackendBuffer> param, IReadOnlyList<BackendBuffer> grad, IReadOnlyList<BackendBuffer> m, IReadOnlyList<BackendBuffer> v, AdamStepParameters p)
    {
        CpuBackend.CheckGroup(param, grad, m, v);
        for (int i = 0; i < param.Count; i++)
        {
            ShapeRules.Length(grad[i], param[i].Length, $"grad[{i}]");
            ShapeRules.Length(m[i], param[i].Length, $"m[{i}]");
            ShapeRules.Length(v[i], param[i].Length, $"v[{i}]");
        }
        if (!_adamGroups.TryGetValue(param[0], out var group) || group.Tensors != param.Count)
        {
            group?.Dispose();
            group = new AdamGroupState(Device, param.Count);
            _adamGroups.AddOrUpdate(param[0], group);
        }
        List<DeviceMemory> Mems(IReadOnlyList<BackendBuffer> buffers, string name) => buffers.Select((b, i) => Mem(b, $"{name}[{i}]")).ToList();
        group.Step(Mems(param, nameof(param)), Mems(grad, nameof(grad)), Mems(m, nameof(m)), Mems(v, nameof(v)), p);
        GC.KeepAlive(param);
        GC.KeepAlive(grad);
        GC.KeepAlive(m);
        GC.KeepAlive(v);
    }

    public void SgdStep(BackendBuffer param, BackendBuffer grad, BackendBuffer? momentumBuffer, double learningRate, double momentum, double dampening, double weightDecay, bool firstStep)
    {
        ShapeRules.Length(grad, param.Length, nameof(grad));
        if (momentumBuffer is not null) ShapeRules.Length(momentumBuffer, param.Length, nameof(momentumBuffer));
        Device.SgdUpdate(Mem(param, nameof(param)), MemOrNull(momentumBuffer, nameof(momentumBuffer)), Mem(grad, nameof(grad)), param.Length,
            learningRate, momentum, dampening, weightDecay, firstStep);
        KeepAlive(param, grad, momentumBuffer);
    }

    // ---- helpers ----

    private DeviceMemory Mem(BackendBuffer buffer, string name)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer is not DeviceBuffer e || !ReferenceEquals(buffer.Backend, this))
            throw new ArgumentException($"{name}: a buffer of backend '{buffer.Backend.Name}' passed to the {Name} backend.", name);
        return e.Memory;
    }

    private List<DeviceMemory> MemoryOf(IReadOnlyList<BackendBuffer> buffers, string name) => buffers.Select((b, i) => Mem(b, $"{name}[{i}]")).ToList();

    private DeviceMemory? MemOrNull(BackendBuffer? buffer, string name) => buffer is null ? null : Mem(buffer, name);

    /// <summary>
    /// Keeps the buffers reachable until the launch has returned: a launch carries only raw device pointers, and a
    /// buffer the caller no longer references could otherwise be finalised (its memory freed) mid-kernel.
    /// </summary>
    private static void KeepAlive(params BackendBuffer?[] buffers) => GC.KeepAlive(buffers);

    private static void CheckBatchNorm(BackendBuffer x, BackendBuffer y, int n, int c, int spatial, BackendBuffer? statistics = null)
    {
        if (statistics is not null) ShapeRules.Length(statistics, 2L * c, nameof(statistics));
        ShapeRules.Length(x, (long)n * c * spatial, nameof(x));
        ShapeRules.Length(y, (long)n * c * spatial, nameof(y));
    }
}

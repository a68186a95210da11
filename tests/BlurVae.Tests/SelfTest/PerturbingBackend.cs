
namespace BlurVae.Tests.SelfTest;

/// <summary>
/// A deliberately broken backend for the parity suite's own tests: the CPU backend, except that after the op named
/// <see cref="Broken"/> one element of its first output is nudged by 1e-3·(1 + |value|): small enough to look
/// plausible, far outside any tolerance. With Broken null it is the CPU backend under another name.
/// Its buffers wrap the CPU backend's, so that tensors made on it (the training step) keep calling it.
/// </summary>
internal sealed class PerturbingBackend(string? broken) : IBackend
{
    private static readonly CpuBackend Cpu = CpuBackend.Instance;

    /// <summary>The IBackend method whose output is perturbed, by name (e.g. nameof(IBackend.Conv2dBackwardWeight)).</summary>
    public string? Broken { get; } = broken;

    public string Name => Broken is null ? "cpu-f32" : $"cpu-f32 with {Broken} broken";

    private sealed class Buffer(PerturbingBackend backend, BackendBuffer inner) : BackendBuffer(backend, inner.DType, inner.Length)
    {
        public BackendBuffer Inner { get; } = Adopted(inner);

        private static BackendBuffer Adopted(BackendBuffer inner)
        {
            Adopt(inner);
            return inner;
        }

        protected override void ReturnStorage() => Inner.Release();

        public override void Dispose() => Inner.Dispose();
    }

    private static BackendBuffer In(BackendBuffer b) => b is Buffer w ? w.Inner : throw new ArgumentException($"a buffer of {b.Backend.Name} passed to the perturbing backend");

    private static BackendBuffer? InOrNull(BackendBuffer? b) => b is null ? null : In(b);

    /// <summary>Nudges the middle element of <paramref name="output"/> when <paramref name="op"/> is the broken one.</summary>
    private void After(string op, BackendBuffer output)
    {
        if (op != Broken || output.Length == 0) return;
        var inner = In(output);
        var values = new double[inner.Length];
        Cpu.Download(inner, values);
        int i = values.Length / 2;
        values[i] += 1e-3 * (1 + Math.Abs(values[i]));
        Cpu.Upload(inner, values);
    }

    public BackendBuffer Allocate(DType dtype, int length) => new Buffer(this, Cpu.Allocate(dtype, length));

    public BackendBuffer AllocateUninitialized(DType dtype, int length) => new Buffer(this, Cpu.AllocateUninitialized(dtype, length));
    public void Upload(BackendBuffer dst, ReadOnlySpan<float> src) => Cpu.Upload(In(dst), src);
    public void Upload(BackendBuffer dst, ReadOnlySpan<double> src) => Cpu.Upload(In(dst), src);
    public void Download(BackendBuffer src, Span<float> dst) => Cpu.Download(In(src), dst);
    public void Download(BackendBuffer src, Span<double> dst) => Cpu.Download(In(src), dst);

    public void Copy(BackendBuffer dst, BackendBuffer src)
    {
        Cpu.Copy(In(dst), In(src));
        After(nameof(Copy), dst);
    }

    public void Fill(BackendBuffer dst, double value)
    {
        Cpu.Fill(In(dst), value);
        After(nameof(Fill), dst);
    }

    public void UnaryForward(UnaryOp op, BackendBuffer y, BackendBuffer x, double alpha)
    {
        Cpu.UnaryForward(op, In(y), In(x), alpha);
        After(nameof(UnaryForward), y);
    }

    public void UnaryBackward(UnaryOp op, BackendBuffer dx, BackendBuffer dy, BackendBuffer x, BackendBuffer y, double alpha)
    {
        Cpu.UnaryBackward(op, In(dx), In(dy), In(x), In(y), alpha);
        After(nameof(UnaryBackward), dx);
    }

    public void BinaryForward(BinaryOp op, BackendBuffer y, int[] yShape, BackendBuffer a, int[] aShape, BackendBuffer b, int[] bShape)
    {
        Cpu.BinaryForward(op, In(y), yShape, In(a), aShape, In(b), bShape);
        After(nameof(BinaryForward), y);
    }

    public void Axpby(BackendBuffer y, double alpha, BackendBuffer x, double beta)
    {
        Cpu.Axpby(In(y), alpha, In(x), beta);
        After(nameof(Axpby), y);
    }

    public void AxpbyGroup(IReadOnlyList<BackendBuffer> y, double alpha, IReadOnlyList<BackendBuffer> x, double beta)
    {
        Cpu.AxpbyGroup(y.Select(In).ToList(), alpha, x.Select(In).ToList(), beta);
        After(nameof(AxpbyGroup), y[0]);
    }

    public void WeightedSumForward(BackendBuffer y, IReadOnlyList<BackendBuffer> x, IReadOnlyList<double> weights)
    {
        Cpu.WeightedSumForward(In(y), x.Select(In).ToList(), weights);
        After(nameof(WeightedSumForward), y);
    }

    public void WeightedSumBackward(IReadOnlyList<BackendBuffer> dx, IReadOnlyList<double> weights, BackendBuffer dy)
    {
        Cpu.WeightedSumBackward(dx.Select(In).ToList(), weights, In(dy));
        After(nameof(WeightedSumBackward), dx[0]);
    }

    public void NarrowBackward(BackendBuffer dx, int axis, int start, BackendBuffer dy, int outer, int length, int inner)
    {
        Cpu.NarrowBackward(In(dx), axis, start, In(dy), outer, length, inner);
        After(nameof(NarrowBackward), dx);
    }

    public void SplitForward(BackendBuffer a, BackendBuffer b, BackendBuffer x, int outer, int half, int inner)
    {
        Cpu.SplitForward(In(a), In(b), In(x), outer, half, inner);
        After(nameof(SplitForward), a);
    }

    public void SplitBackward(BackendBuffer dx, BackendBuffer? da, BackendBuffer? db, int outer, int half, int inner)
    {
        Cpu.SplitBackward(In(dx), InOrNull(da), InOrNull(db), outer, half, inner);
        After(nameof(SplitBackward), dx);
    }

    public void BiasActivationForward(BackendBuffer y, BackendBuffer? bias, int rows, int cols, UnaryOp? activation, double alpha)
    {
        Cpu.BiasActivationForward(In(y), InOrNull(bias), rows, cols, activation, alpha);
        After(nameof(BiasActivationForward), y);
    }

    public void BiasActivationBackward(BackendBuffer dPre, BackendBuffer? dBias, BackendBuffer dy, BackendBuffer y, int rows, int cols, UnaryOp? activation, double alpha)
    {
        Cpu.BiasActivationBackward(In(dPre), InOrNull(dBias), In(dy), In(y), rows, cols, activation, alpha);
        After(nameof(BiasActivationBackward), dBias ?? dPre);
    }

    public void SumTo(BackendBuffer y, int[] yShape, BackendBuffer x, int[] xShape)
    {
        Cpu.SumTo(In(y), yShape, In(x), xShape);
        After(nameof(SumTo), y);
    }

    public void BroadcastTo(BackendBuffer y, int[] yShape, BackendBuffer x, int[] xShape)
    {
        Cpu.BroadcastTo(In(y), yShape, In(x), xShape);
        After(nameof(BroadcastTo), y);
    }

    public void CopyAxisSlice(BackendBuffer dst, int dstAxis, int dstStart, BackendBuffer src, int srcAxis, int srcStart, int outer, int length, int inner, bool accumulate)
    {
        Cpu.CopyAxisSlice(In(dst), dstAxis, dstStart, In(src), srcAxis, srcStart, outer, length, inner, accumulate);
        After(nameof(CopyAxisSlice), dst);
    }

    public void Gemm(bool transA, bool transB, int m, int n, int k, double alpha, BackendBuffer a, int aOffset, int lda, long strideA,
                     BackendBuffer b, int bOffset, int ldb, long strideB, double beta, BackendBuffer c, int cOffset, int ldc, long strideC, int batch = 1)
    {
        Cpu.Gemm(transA, transB, m, n, k, alpha, In(a), aOffset, lda, strideA, In(b), bOffset, ldb, strideB, beta, In(c), cOffset, ldc, strideC, batch);
        After(nameof(Gemm), c);
    }

    public void Conv2dForward(BackendBuffer y, BackendBuffer x, BackendBuffer w, BackendBuffer? bias, ConvGeometry g, BackendBuffer? statistics = null)
    {
        Cpu.Conv2dForward(In(y), In(x), In(w), InOrNull(bias), g, InOrNull(statistics));
        After(nameof(Conv2dForward), y);
    }

    public void Conv2dBackwardInput(BackendBuffer dx, BackendBuffer dy, BackendBuffer w, ConvGeometry g, BackendBuffer? bias = null, BackendBuffer? statistics = null)
    {
        Cpu.Conv2dBackwardInput(In(dx), In(dy), In(w), g, InOrNull(bias), InOrNull(statistics));
        After(nameof(Conv2dBackwardInput), dx);
    }

    public void Conv2dBackwardWeight(BackendBuffer dw, BackendBuffer? dbias, BackendBuffer dy, BackendBuffer x, ConvGeometry g)
    {
        Cpu.Conv2dBackwardWeight(In(dw), InOrNull(dbias), In(dy), In(x), g);
        After(nameof(Conv2dBackwardWeight), dw);
    }

    public void BatchNormForwardTraining(BackendBuffer y, BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer x, BackendBuffer? gamma, BackendBuffer? beta,
                                        BackendBuffer? runningMean, BackendBuffer? runningVar, int n, int c, int spatial, double eps, double momentum, BackendBuffer? statistics = null)
    {
        Cpu.BatchNormForwardTraining(In(y), In(saveMean), In(saveInvStd), In(x), InOrNull(gamma), InOrNull(beta), InOrNull(runningMean), InOrNull(runningVar), n, c, spatial, eps, momentum,
            InOrNull(statistics));
        After(nameof(BatchNormForwardTraining), y);
    }

    public void BatchNormForwardInference(BackendBuffer y, BackendBuffer x, BackendBuffer runningMean, BackendBuffer runningVar, BackendBuffer? gamma, BackendBuffer? beta,
                                         int n, int c, int spatial, double eps)
    {
        Cpu.BatchNormForwardInference(In(y), In(x), In(runningMean), In(runningVar), InOrNull(gamma), InOrNull(beta), n, c, spatial, eps);
        After(nameof(BatchNormForwardInference), y);
    }

    public void BatchNormBackward(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer x, BackendBuffer saveMean, BackendBuffer saveInvStd,
                                  BackendBuffer? gamma, int n, int c, int spatial)
    {
        Cpu.BatchNormBackward(In(dx), InOrNull(dgamma), InOrNull(dbeta), In(dy), In(x), In(saveMean), In(saveInvStd), InOrNull(gamma), n, c, spatial);
        After(nameof(BatchNormBackward), dx);
    }

    public void BatchNormBackwardInference(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer x, BackendBuffer runningMean,
                                           BackendBuffer runningVar, BackendBuffer? gamma, int n, int c, int spatial, double eps)
    {
        Cpu.BatchNormBackwardInference(In(dx), InOrNull(dgamma), InOrNull(dbeta), In(dy), In(x), In(runningMean), In(runningVar), InOrNull(gamma), n, c, spatial, eps);
        After(nameof(BatchNormBackwardInference), dx);
    }

    public void BatchNormLeakyReluForwardTraining(BackendBuffer y, BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer x, BackendBuffer? gamma, BackendBuffer? beta,
                                                  BackendBuffer? runningMean, BackendBuffer? runningVar, int n, int c, int spatial, double eps, double momentum, double negativeSlope,
                                                  BackendBuffer? statistics = null)
    {
        Cpu.BatchNormLeakyReluForwardTraining(In(y), In(saveMean), In(saveInvStd), In(x), InOrNull(gamma), InOrNull(beta), InOrNull(runningMean), InOrNull(runningVar),
            n, c, spatial, eps, momentum, negativeSlope, InOrNull(statistics));
        After(nameof(BatchNormLeakyReluForwardTraining), y);
    }

    public void BatchNormLeakyReluBackward(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer y, BackendBuffer x,
                                           BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer? gamma, int n, int c, int spatial, double negativeSlope)
    {
        Cpu.BatchNormLeakyReluBackward(In(dx), InOrNull(dgamma), InOrNull(dbeta), In(dy), In(y), In(x), In(saveMean), In(saveInvStd), InOrNull(gamma), n, c, spatial, negativeSlope);
        After(nameof(BatchNormLeakyReluBackward), dx);
    }

    public void ReparameterizeForward(BackendBuffer z, BackendBuffer mu, BackendBuffer logVar, BackendBuffer eps)
    {
        Cpu.ReparameterizeForward(In(z), In(mu), In(logVar), In(eps));
        After(nameof(ReparameterizeForward), z);
    }

    public void ReparameterizeBackward(BackendBuffer dMu, BackendBuffer dLogVar, BackendBuffer dz, BackendBuffer logVar, BackendBuffer eps)
    {
        Cpu.ReparameterizeBackward(In(dMu), In(dLogVar), In(dz), In(logVar), In(eps));
        After(nameof(ReparameterizeBackward), dLogVar);
    }

    public void LatentForward(BackendBuffer z, BackendBuffer kl, BackendBuffer perSample, BackendBuffer stats, BackendBuffer eps, int n, int latent, double scale)
    {
        Cpu.LatentForward(In(z), In(kl), In(perSample), In(stats), In(eps), n, latent, scale);
        After(nameof(LatentForward), z);
    }

    public void LatentBackward(BackendBuffer dStats, BackendBuffer? dz, BackendBuffer? dKl, BackendBuffer stats, BackendBuffer eps, int n, int latent, double scale)
    {
        Cpu.LatentBackward(In(dStats), InOrNull(dz), InOrNull(dKl), In(stats), In(eps), n, latent, scale);
        After(nameof(LatentBackward), dStats);
    }

    public void SoftmaxForward(BackendBuffer y, BackendBuffer x, int rows, int cols)
    {
        Cpu.SoftmaxForward(In(y), In(x), rows, cols);
        After(nameof(SoftmaxForward), y);
    }

    public void SoftmaxBackward(BackendBuffer dx, BackendBuffer dy, BackendBuffer y, int rows, int cols)
    {
        Cpu.SoftmaxBackward(In(dx), In(dy), In(y), rows, cols);
        After(nameof(SoftmaxBackward), dx);
    }

    public void ResizeBilinearForward(BackendBuffer y, BackendBuffer x, int planes, int inH, int inW, int outH, int outW)
    {
        Cpu.ResizeBilinearForward(In(y), In(x), planes, inH, inW, outH, outW);
        After(nameof(ResizeBilinearForward), y);
    }

    public void ResizeBilinearBackward(BackendBuffer dx, BackendBuffer dy, int planes, int inH, int inW, int outH, int outW)
    {
        Cpu.ResizeBilinearBackward(In(dx), In(dy), planes, inH, inW, outH, outW);
        After(nameof(ResizeBilinearBackward), dx);
    }

    public void Pool2dForward(BackendBuffer y, BackendBuffer x, PoolGeometry g)
    {
        Cpu.Pool2dForward(In(y), In(x), g);
        After(nameof(Pool2dForward), y);
    }

    public void Pool2dBackward(BackendBuffer dx, BackendBuffer dy, BackendBuffer x, PoolGeometry g)
    {
        Cpu.Pool2dBackward(In(dx), In(dy), In(x), g);
        After(nameof(Pool2dBackward), dx);
    }

    public void Rfft2(BackendBuffer y, BackendBuffer x, int batch, int h, int w)
    {
        Cpu.Rfft2(In(y), In(x), batch, h, w);
        After(nameof(Rfft2), y);
    }

    public void Irfft2(BackendBuffer x, BackendBuffer c, int batch, int h, int w, bool overwriteInput = false)
    {
        Cpu.Irfft2(In(x), In(c), batch, h, w, overwriteInput);
        After(nameof(Irfft2), x);
    }

    public void BlurKernelToOtfForward(BackendBuffer output, BackendBuffer kernel, int n, int kernelSize, int height, int width)
    {
        Cpu.BlurKernelToOtfForward(In(output), In(kernel), n, kernelSize, height, width);
        After(nameof(BlurKernelToOtfForward), output);
    }

    public void BlurKernelToOtfBackward(BackendBuffer dKernel, BackendBuffer dOutput, int n, int kernelSize, int height, int width)
    {
        Cpu.BlurKernelToOtfBackward(In(dKernel), In(dOutput), n, kernelSize, height, width);
        After(nameof(BlurKernelToOtfBackward), dKernel);
    }

    public void FocalFrequencyWeight(BackendBuffer weight, BackendBuffer spectrum, int planes, int height, int width, double alpha)
    {
        Cpu.FocalFrequencyWeight(In(weight), In(spectrum), planes, height, width, alpha);
        After(nameof(FocalFrequencyWeight), weight);
    }

    public void WienerWeightForward(BackendBuffer loss, BackendBuffer perImage, BackendBuffer fk, BackendBuffer e, int n, int channels, int height, int width, double constant, double scale)
    {
        Cpu.WienerWeightForward(In(loss), In(perImage), In(fk), In(e), n, channels, height, width, constant, scale);
        After(nameof(WienerWeightForward), loss);
    }

    public void WienerWeightBackward(BackendBuffer de, BackendBuffer dfk, BackendBuffer dLoss, BackendBuffer fk, BackendBuffer e, int n, int channels, int height, int width, double constant, double scale)
    {
        Cpu.WienerWeightBackward(In(de), In(dfk), In(dLoss), In(fk), In(e), n, channels, height, width, constant, scale);
        After(nameof(WienerWeightBackward), de);
    }

    public void BlurKernelFitForward(BackendBuffer loss, BackendBuffer perImage, BackendBuffer x, BackendBuffer xHat, BackendBuffer fk, int n, int channels, int height, int width, double scale)
    {
        Cpu.BlurKernelFitForward(In(loss), In(perImage), In(x), In(xHat), In(fk), n, channels, height, width, scale);
        After(nameof(BlurKernelFitForward), loss);
    }

    public void BlurKernelFitBackward(BackendBuffer dXHat, BackendBuffer dFk, BackendBuffer dLoss, BackendBuffer x, BackendBuffer xHat, BackendBuffer fk, int n, int channels, int height, int width, double scale)
    {
        Cpu.BlurKernelFitBackward(In(dXHat), In(dFk), In(dLoss), In(x), In(xHat), In(fk), n, channels, height, width, scale);
        After(nameof(BlurKernelFitBackward), dXHat);
    }

    public void AdamStepGroup(IReadOnlyList<BackendBuffer> param, IReadOnlyList<BackendBuffer> grad, IReadOnlyList<BackendBuffer> m, IReadOnlyList<BackendBuffer> v, AdamStepParameters p)
    {
        Cpu.AdamStepGroup(param.Select(In).ToList(), grad.Select(In).ToList(), m.Select(In).ToList(), v.Select(In).ToList(), p);
        After(nameof(AdamStepGroup), param[^1]);
    }

    public void AdamStep(BackendBuffer param, BackendBuffer grad, BackendBuffer m, BackendBuffer v, AdamStepParameters p)
    {
        Cpu.AdamStep(In(param), In(grad), In(m), In(v), p);
        After(nameof(AdamStep), param);
    }

    public void SgdStep(BackendBuffer param, BackendBuffer grad, BackendBuffer? momentumBuffer, double learningRate, double momentum, double dampening, double weightDecay, bool firstStep)
    {
        Cpu.SgdStep(In(param), In(grad), InOrNull(momentumBuffer), learningRate, momentum, dampening, weightDecay, firstStep);
        After(nameof(SgdStep), param);
    }
}

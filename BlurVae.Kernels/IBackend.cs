namespace BlurVae.Kernels;

/// <summary>
/// The primitive ops every backend implements: one method per op and direction, outputs first (llm.c style).
/// Shapes are row-major and every buffer is contiguous. Backward methods overwrite their outputs; the autograd
/// engine accumulates gradients. Buffers passed to one call must all belong to this backend and share a dtype.
/// </summary>
public interface IBackend
{
    string Name { get; }

    // ---- memory ----
    /// <summary>A zero-filled buffer: for outputs an op accumulates into.</summary>
    BackendBuffer Allocate(DType dtype, int length);

    /// <summary>
    /// A buffer of unspecified contents, for an output that the next op overwrites completely (no zero-fill, so no
    /// memset on a GPU). The emulated device fills it with NaN, and so does the CPU backend under
    /// <see cref="Cpu.CpuBackend.PoisonUninitialized"/> (on in the tests): an op that reads before it writes fails in CI.
    /// </summary>
    BackendBuffer AllocateUninitialized(DType dtype, int length);
    void Upload(BackendBuffer dst, ReadOnlySpan<float> src);
    void Upload(BackendBuffer dst, ReadOnlySpan<double> src);
    void Download(BackendBuffer src, Span<float> dst);
    void Download(BackendBuffer src, Span<double> dst);
    void Copy(BackendBuffer dst, BackendBuffer src);
    void Fill(BackendBuffer dst, double value);

    // ---- elementwise (Cpu/Elementwise) ----
    void UnaryForward(UnaryOp op, BackendBuffer y, BackendBuffer x, double alpha);
    /// <summary>dx = dy · f'(x); ops whose derivative is cheaper from the output (tanh, sigmoid, exp) read y.</summary>
    void UnaryBackward(UnaryOp op, BackendBuffer dx, BackendBuffer dy, BackendBuffer x, BackendBuffer y, double alpha);
    /// <summary>y = a op b with numpy broadcasting; all three shapes have the same rank.</summary>
    void BinaryForward(BinaryOp op, BackendBuffer y, int[] yShape, BackendBuffer a, int[] aShape, BackendBuffer b, int[] bShape);
    /// <summary>y = alpha·x + beta·y (same length).</summary>
    void Axpby(BackendBuffer y, double alpha, BackendBuffer x, double beta);
    /// <summary>
    /// <see cref="Axpby"/> on every pair: y[k] = alpha·x[k] + beta·y[k] (each pair of one length, every y[k] a buffer of
    /// its own). A device runs the group as one launch (kernels/elementwise.cuh), the trainer's running loss sums.
    /// </summary>
    void AxpbyGroup(IReadOnlyList<BackendBuffer> y, double alpha, IReadOnlyList<BackendBuffer> x, double beta);
    /// <summary>y = Σ_k weights[k]·x[k] over tensors of one length (1 to 8 terms), added in k order.</summary>
    void WeightedSumForward(BackendBuffer y, IReadOnlyList<BackendBuffer> x, IReadOnlyList<double> weights);
    /// <summary>dx[k] = weights[k]·dy for every term, all overwritten (one launch on a device).</summary>
    void WeightedSumBackward(IReadOnlyList<BackendBuffer> dx, IReadOnlyList<double> weights, BackendBuffer dy);

    // ---- reductions and broadcasts (Cpu/Reduce) ----
    /// <summary>y = x summed over every axis where yShape has 1 and xShape not; same rank.</summary>
    void SumTo(BackendBuffer y, int[] yShape, BackendBuffer x, int[] xShape);
    /// <summary>y = x repeated along every axis where xShape has 1 and yShape not; same rank.</summary>
    void BroadcastTo(BackendBuffer y, int[] yShape, BackendBuffer x, int[] xShape);
    /// <summary>
    /// Copies a slab along one axis: viewing dst as [outer, dstAxis, inner] and src as [outer, srcAxis, inner],
    /// dst[o, dstStart + i, :] (+)= src[o, srcStart + i, :] for i &lt; length. Concat, chunk and their backwards.
    /// </summary>
    void CopyAxisSlice(BackendBuffer dst, int dstAxis, int dstStart, BackendBuffer src, int srcAxis, int srcStart, int outer, int length, int inner, bool accumulate);
    /// <summary>
    /// A narrow's gradient: viewing dx as [outer, axis, inner] and dy as [outer, length, inner], dx = dy at
    /// [start, start + length) of the middle axis and 0 elsewhere; every element of dx written (no zero-fill first).
    /// </summary>
    void NarrowBackward(BackendBuffer dx, int axis, int start, BackendBuffer dy, int outer, int length, int inner);
    /// <summary>x [outer, 2·half, inner] split along its middle axis: a = the first half, b = the second (one pass for both).</summary>
    void SplitForward(BackendBuffer a, BackendBuffer b, BackendBuffer x, int outer, int half, int inner);
    /// <summary>dx [outer, 2·half, inner] = da in the first half, db in the second, a null gradient as zeros; every element written.</summary>
    void SplitBackward(BackendBuffer dx, BackendBuffer? da, BackendBuffer? db, int outer, int half, int inner);

    // ---- a Linear layer's bias and activation around its GEMMs (Cpu/Linear) ----
    /// <summary>
    /// y = act(y + bias) in place over y[rows, cols] (the GEMM's output), bias[cols] or null; act null (identity), Relu,
    /// LeakyRelu with alpha ≥ 0, or Relu6.
    /// </summary>
    void BiasActivationForward(BackendBuffer y, BackendBuffer? bias, int rows, int cols, UnaryOp? activation, double alpha);
    /// <summary>dPre = dy · act'(pre), read from the forward's output y (alpha ≥ 0 makes the branch the same); dBias (null:
    /// none) = dPre summed over the rows. dPre is overwritten.</summary>
    void BiasActivationBackward(BackendBuffer dPre, BackendBuffer? dBias, BackendBuffer dy, BackendBuffer y, int rows, int cols, UnaryOp? activation, double alpha);

    // ---- matrix multiply (Cpu/Gemm) ----
    /// <summary>Row-major C = alpha·op(A)·op(B) + beta·C for `batch` matrices at the given element strides.</summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, double alpha,
              BackendBuffer a, int aOffset, int lda, long strideA,
              BackendBuffer b, int bOffset, int ldb, long strideB,
              double beta, BackendBuffer c, int cOffset, int ldc, long strideC, int batch = 1);

    // ---- convolution (Cpu/Conv) ----
    /// <summary>
    /// y = conv(x, w) + bias. With <paramref name="statistics"/> (length 2·Cout, [Cout, 2]) also each output channel's
    /// batch statistics (mean, Σ (y − mean)²) over its N·OH·OW values, gathered part by part while the output is in
    /// cache and merged in a fixed order (Chan's pairwise update): what a BatchNorm after it takes instead of
    /// computing them (<see cref="BatchNormForwardTraining"/>'s statistics).
    /// </summary>
    void Conv2dForward(BackendBuffer y, BackendBuffer x, BackendBuffer w, BackendBuffer? bias, ConvGeometry g, BackendBuffer? statistics = null);
    /// <summary>
    /// dx = the backward-input pass of the convolution (the forward of a transposed convolution), plus bias[ci] on
    /// every plane of input channel ci when <paramref name="bias"/> is given (ConvTranspose2d's bias, in the epilogue);
    /// <paramref name="statistics"/> ([Cin, 2]) as <see cref="Conv2dForward"/>'s, of dx.
    /// </summary>
    void Conv2dBackwardInput(BackendBuffer dx, BackendBuffer dy, BackendBuffer w, ConvGeometry g, BackendBuffer? bias = null, BackendBuffer? statistics = null);
    /// <summary>dw (and dbias when given) from dy and x; overwrites.</summary>
    void Conv2dBackwardWeight(BackendBuffer dw, BackendBuffer? dbias, BackendBuffer dy, BackendBuffer x, ConvGeometry g);

    // ---- batch normalisation (Cpu/BatchNorm) over x viewed as [n, c, spatial] ----
    /// <summary>
    /// Batch statistics; saves mean and 1/sqrt(var+eps) for backward; updates running stats (unbiased var) when given.
    /// With <paramref name="statistics"/> ([c, 2]: mean, Σ (x − mean)² per channel over its n·spatial values, as a
    /// convolution's forward gathers them) it takes those instead of computing them: one pass over x, not two.
    /// </summary>
    void BatchNormForwardTraining(BackendBuffer y, BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer x,
                                  BackendBuffer? gamma, BackendBuffer? beta, BackendBuffer? runningMean, BackendBuffer? runningVar,
                                  int n, int c, int spatial, double eps, double momentum, BackendBuffer? statistics = null);
    void BatchNormForwardInference(BackendBuffer y, BackendBuffer x, BackendBuffer runningMean, BackendBuffer runningVar,
                                   BackendBuffer? gamma, BackendBuffer? beta, int n, int c, int spatial, double eps);
    void BatchNormBackward(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer x,
                           BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer? gamma, int n, int c, int spatial);
    /// <summary>Backward of the inference-mode normalisation (running statistics are constants).</summary>
    void BatchNormBackwardInference(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer x,
                                    BackendBuffer runningMean, BackendBuffer runningVar, BackendBuffer? gamma, int n, int c, int spatial, double eps);

    /// <summary>
    /// y = LeakyReLU(BatchNorm(x)) in one pass (the BatchNorm → LeakyReLU pair of architectures A and B): batch
    /// statistics, saveMean/saveInvStd and the running-statistics update exactly as <see cref="BatchNormForwardTraining"/>,
    /// then y = z for z &gt; 0 and negativeSlope·z otherwise; negativeSlope ≥ 0. <paramref name="statistics"/>: precomputed
    /// batch statistics, as <see cref="BatchNormForwardTraining"/>'s.
    /// </summary>
    void BatchNormLeakyReluForwardTraining(BackendBuffer y, BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer x,
                                           BackendBuffer? gamma, BackendBuffer? beta, BackendBuffer? runningMean, BackendBuffer? runningVar,
                                           int n, int c, int spatial, double eps, double momentum, double negativeSlope, BackendBuffer? statistics = null);
    /// <summary>
    /// Backward of <see cref="BatchNormLeakyReluForwardTraining"/> from its output y: g = dy where y &gt; 0 and
    /// negativeSlope·dy otherwise (z &gt; 0 exactly where y &gt; 0), then <see cref="BatchNormBackward"/> of g.
    /// </summary>
    void BatchNormLeakyReluBackward(BackendBuffer dx, BackendBuffer? dgamma, BackendBuffer? dbeta, BackendBuffer dy, BackendBuffer y, BackendBuffer x,
                                    BackendBuffer saveMean, BackendBuffer saveInvStd, BackendBuffer? gamma, int n, int c, int spatial, double negativeSlope);

    // ---- softmax over the last axis (Cpu/Softmax) ----
    void SoftmaxForward(BackendBuffer y, BackendBuffer x, int rows, int cols);
    void SoftmaxBackward(BackendBuffer dx, BackendBuffer dy, BackendBuffer y, int rows, int cols);

    // ---- bilinear resize, align_corners = false (Cpu/Resize; kernels/resize.cuh) ----

    /// <summary>
    /// Bilinear resize [planes, inH, inW] → [planes, outH, outW] with align_corners = false, PyTorch's source-index rule
    /// for F.interpolate(size=…) (CpuBackend.ResizeTap): architecture B's 2× upsampling (nn.Upsample(scale_factor=2) is
    /// the resize to 2h × 2w, the same taps) and Inception's resize to 299 × 299.
    /// </summary>
    void ResizeBilinearForward(BackendBuffer y, BackendBuffer x, int planes, int inH, int inW, int outH, int outW);
    /// <summary>dx = the adjoint of <see cref="ResizeBilinearForward"/> applied to dy; overwrites.</summary>
    void ResizeBilinearBackward(BackendBuffer dx, BackendBuffer dy, int planes, int inH, int inW, int outH, int outW);

    // ---- 2-D max and average pooling, fixed or adaptive windows (Cpu/Pool; kernels/pool.cuh) ----
    void Pool2dForward(BackendBuffer y, BackendBuffer x, PoolGeometry g);
    /// <summary>dx from dy; x is read by max pooling (the gradient goes to each window's first maximum); overwrites.</summary>
    void Pool2dBackward(BackendBuffer dx, BackendBuffer dy, BackendBuffer x, PoolGeometry g);

    // ---- FFT over the last two axes, unnormalised (Cpu/Fft) ----
    /// <summary>y[batch, h, w/2+1, 2] = DFT(x[batch, h, w]), sign −.</summary>
    void Rfft2(BackendBuffer y, BackendBuffer x, int batch, int h, int w);
    /// <summary>
    /// x[batch, h, w] = inverse DFT of the Hermitian half spectrum c, sign +, no 1/(hw). With
    /// <paramref name="overwriteInput"/> the caller gives c up (a temporary it made for this call): cuFFT's C2R may then
    /// overwrite it instead of a copy; otherwise c is left as it was.
    /// </summary>
    void Irfft2(BackendBuffer x, BackendBuffer c, int batch, int h, int w, bool overwriteInput = false);

    // ---- fused loss pieces of the blur model (Cpu/Wiener; kernels/wiener.cuh, kernels/losses.cuh) ----
    // Spectra are half spectra [.., H, W/2+1, 2] of (re, im) pairs; m_f is the column multiplicity (1 for column 0 and,
    // for even W, column W/2; 2 otherwise). The losses write each image's value perImage[N] and their scaled sum
    // loss[1] = scale·Σ_i perImage[i] (the batch mean for scale = 1/N) in one op; their backwards read the one-element
    // upstream gradient dLoss[0] and apply the scale themselves: g = dLoss[0]·scale.
    /// <summary>
    /// output[n, h, w] = the kernels k[n, ks, ks] (ks odd, ≤ h, w) zero-padded with their centres rolled to (0, 0):
    /// k[a, b] lands on ((a − r) mod h, (b − r) mod w), r = ks/2; every element of output is written.
    /// </summary>
    void BlurKernelToOtfForward(BackendBuffer output, BackendBuffer kernel, int n, int kernelSize, int height, int width);
    /// <summary>The adjoint: dKernel[i, a, b] = dOutput[i, (a − r) mod h, (b − r) mod w].</summary>
    void BlurKernelToOtfBackward(BackendBuffer dKernel, BackendBuffer dOutput, int n, int kernelSize, int height, int width);
    /// <summary>
    /// perImage[i] = ½ Σ_c,f m_f |W_f|² |e[i, c, f]|², |W_f|² = p/(p + C)², p = |fk[i, f]|², and
    /// loss[0] = scale·Σ_i perImage[i]: fk [n, h, w/2+1, 2] the unnormalised kernel spectrum, e [n, c, h, w/2+1, 2] the
    /// error spectrum (WienerBlurLoss passes the unnormalised F(x − x̂) and puts the orthonormal 1/(h·w) in scale); n ≥ 1.
    /// </summary>
    void WienerWeightForward(BackendBuffer loss, BackendBuffer perImage, BackendBuffer fk, BackendBuffer e, int n, int channels, int height, int width,
                             double constant, double scale);
    /// <summary>With g = dLoss[0]·scale: de = g·m_f|W_f|²·e; dfk = g·m_f·Σ_c|e|²·(C − p)/(p + C)³·fk.</summary>
    void WienerWeightBackward(BackendBuffer de, BackendBuffer dfk, BackendBuffer dLoss, BackendBuffer fk, BackendBuffer e,
                              int n, int channels, int height, int width, double constant, double scale);
    /// <summary>
    /// perImage[i] = 1/(h·w)·Σ_c,f m_f |x·fk − xHat|² (= Σ_pixels (x ∗ k − x̂)² by Parseval) from the unnormalised
    /// half spectra x, xHat [n, c, h, w/2+1, 2] and fk [n, h, w/2+1, 2] (broadcast over channels), and
    /// loss[0] = scale·Σ_i perImage[i]; n ≥ 1.
    /// </summary>
    void BlurKernelFitForward(BackendBuffer loss, BackendBuffer perImage, BackendBuffer x, BackendBuffer xHat, BackendBuffer fk,
                              int n, int channels, int height, int width, double scale);
    /// <summary>With R = x·fk − xHat and g = dLoss[0]·scale·2m_f/(h·w): dXHat = −g·R, dFk = g·Σ_c R·conj(x).</summary>
    void BlurKernelFitBackward(BackendBuffer dXHat, BackendBuffer dFk, BackendBuffer dLoss, BackendBuffer x, BackendBuffer xHat, BackendBuffer fk,
                           int n, int channels, int height, int width, double scale);

    /// <summary>
    /// The focal frequency loss's detached online weight over planes of half spectra d [planes, h, w/2+1, 2]:
    /// weight[p, f] = m_f · clamp(|d|^α / max_f |d|^α, 0, 1) (0 for an all-zero plane), m_f the column multiplicity
    /// (2 for interior columns, whose conjugates the half spectrum drops).
    /// </summary>
    void FocalFrequencyWeight(BackendBuffer weight, BackendBuffer spectrum, int planes, int height, int width, double alpha);

    // ---- the VAE's latent pieces (Cpu/Vae; kernels/vae.cuh) ----
    /// <summary>z = mu + exp(½ logVar)·eps, elementwise (the reparameterisation; eps is noise, no gradient).</summary>
    void ReparameterizeForward(BackendBuffer z, BackendBuffer mu, BackendBuffer logVar, BackendBuffer eps);
    /// <summary>dMu = dz, dLogVar = dz·eps·½exp(½ logVar); both overwritten.</summary>
    void ReparameterizeBackward(BackendBuffer dMu, BackendBuffer dLogVar, BackendBuffer dz, BackendBuffer logVar, BackendBuffer eps);

    /// <summary>
    /// The latent on the encoder's statistics stats [n, 2·latent] (row i: μ_i then log σ²_i), n ≥ 1: z = μ + exp(½ log σ²)·eps
    /// [n, latent], perSample[i] = −½ Σ_j (1 + log σ² − μ² − exp(log σ²)), the KL of sample i, and kl[0] = scale·Σ_i perSample[i], in one op.
    /// </summary>
    void LatentForward(BackendBuffer z, BackendBuffer kl, BackendBuffer perSample, BackendBuffer stats, BackendBuffer eps, int n, int latent, double scale);
    /// <summary>
    /// dStats [n, 2·latent], every element written: with g = dKl[0]·scale, dμ = dz + g·μ and d log σ² = dz·eps·½exp(½ log σ²)
    /// + g·½(exp(log σ²) − 1); a null dz or dKl (no gradient reached that output) drops its term.
    /// </summary>
    void LatentBackward(BackendBuffer dStats, BackendBuffer? dz, BackendBuffer? dKl, BackendBuffer stats, BackendBuffer eps, int n, int latent, double scale);

    // ---- optimisers (Cpu/Optim) ----
    void AdamStep(BackendBuffer param, BackendBuffer grad, BackendBuffer m, BackendBuffer v, AdamStepParameters p);
    /// <summary>
    /// <see cref="AdamStep"/> on every tensor i of one optimiser's group, all at step p.Step. A device runs the group as
    /// one multi-tensor launch with the step count kept on the device (kernels/optim.cuh); the CPU tensor by tensor.
    /// </summary>
    void AdamStepGroup(IReadOnlyList<BackendBuffer> param, IReadOnlyList<BackendBuffer> grad, IReadOnlyList<BackendBuffer> m, IReadOnlyList<BackendBuffer> v, AdamStepParameters p);
    /// <summary>PyTorch SGD: g' = g + wd·p; buf = momentum·buf + (1−dampening)·g' (buf = g' at the first step); p −= lr·buf.</summary>
    void SgdStep(BackendBuffer param, BackendBuffer grad, BackendBuffer? momentumBuffer, double learningRate, double momentum, double dampening, double weightDecay, bool firstStep);
}

namespace BlurVae.Kernels;

/// <summary>Elementwise unary ops. The backward rule of each sits beside its forward in every backend.</summary>
public enum UnaryOp
{
    /// <summary>y = alpha·x</summary>
    Scale,
    /// <summary>y = x + alpha</summary>
    AddScalar,
    Relu,
    /// <summary>y = x for x &gt; 0, alpha·x otherwise</summary>
    LeakyRelu,
    /// <summary>y = min(max(x, 0), 6)</summary>
    Relu6,
    Tanh,
    Sigmoid,
    Exp,
    /// <summary>natural logarithm</summary>
    Log,
    Abs,
    Square,
    /// <summary>y = x^alpha</summary>
    Pow,
}

/// <summary>Elementwise binary ops with numpy broadcasting.</summary>
public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
}

/// <summary>
/// Geometry of a 2-D convolution x[n, cin, h, w] * w[cout, cin, kh, kw] → y[n, cout, outH, outW], with a stride and
/// zero padding per axis (Inception's 1×7 and 7×1 layers pad one axis only).
/// A transposed convolution is the same geometry read backwards (its input is this geometry's y).
/// </summary>
public readonly record struct ConvGeometry(
    int N, int InChannels, int InH, int InW,
    int OutChannels, int KernelH, int KernelW,
    int StrideH, int StrideW, int PaddingH, int PaddingW, int OutH, int OutW)
{
    /// <summary>The geometry of a forward convolution; output size follows PyTorch's floor formula.</summary>
    public static ConvGeometry ForConv(int n, int inChannels, int inH, int inW, int outChannels, int kernelH, int kernelW, int stride, int padding) =>
        ForConv(n, inChannels, inH, inW, outChannels, kernelH, kernelW, stride, stride, padding, padding);

    /// <summary>The geometry of a forward convolution with a stride and padding per axis (PyTorch's tuple arguments).</summary>
    public static ConvGeometry ForConv(int n, int inChannels, int inH, int inW, int outChannels, int kernelH, int kernelW,
                                       int strideH, int strideW, int paddingH, int paddingW)
    {
        CheckStrideAndPadding(strideH, paddingH);
        CheckStrideAndPadding(strideW, paddingW);
        int outH = (inH + 2 * paddingH - kernelH) / strideH + 1;
        int outW = (inW + 2 * paddingW - kernelW) / strideW + 1;
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"Convolution of a {inH}x{inW} input with a {kernelH}x{kernelW} kernel (stride {strideH},{strideW}, padding {paddingH},{paddingW}) has no output.");
        return new ConvGeometry(n, inChannels, inH, inW, outChannels, kernelH, kernelW, strideH, strideW, paddingH, paddingW, outH, outW);
    }

    /// <summary>
    /// The geometry whose backward-input pass is the transposed convolution x[n, cin, h, w] → y[n, cout, H', W'],
    /// H' = (h−1)·stride − 2·padding + kh + outputPadding (PyTorch's ConvTranspose2d).
    /// The returned geometry maps y (its "input") to x (its "output").
    /// </summary>
    public static ConvGeometry ForTransposed(int n, int inChannels, int inH, int inW, int outChannels, int kernelH, int kernelW, int stride, int padding, int outputPadding)
    {
        CheckStrideAndPadding(stride, padding);
        if (outputPadding < 0 || outputPadding >= stride)
            throw new ArgumentOutOfRangeException(nameof(outputPadding), outputPadding, "output padding must be >= 0 and smaller than the stride");
        int outH = (inH - 1) * stride - 2 * padding + kernelH + outputPadding;
        int outW = (inW - 1) * stride - 2 * padding + kernelW + outputPadding;
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"Transposed convolution of a {inH}x{inW} input has no output.");
        return new ConvGeometry(n, outChannels, outH, outW, inChannels, kernelH, kernelW, stride, stride, padding, padding, inH, inW);
    }

    private static void CheckStrideAndPadding(int stride, int padding)
    {
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be >= 1");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be >= 0");
    }

    /// <summary>Whether both axes share one stride and one padding: the CPU's phase-split fast paths assume it.</summary>
    public bool IsUniform => StrideH == StrideW && PaddingH == PaddingW;

    /// <summary>The stride of a uniform geometry (<see cref="IsUniform"/>); per-axis code reads StrideH/StrideW.</summary>
    public int Stride => IsUniform ? StrideH : PerAxis("stride", "StrideH and StrideW");

    /// <summary>The padding of a uniform geometry (<see cref="IsUniform"/>); per-axis code reads PaddingH/PaddingW.</summary>
    public int Padding => IsUniform ? PaddingH : PerAxis("padding", "PaddingH and PaddingW");

    // The throw lives out of line so that Stride and Padding stay small enough to inline: the CPU convolutions read
    // them in per-row loops, where a call each cost ~1 % of a training step.
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private int PerAxis(string what, string read) =>
        throw new InvalidOperationException($"A {KernelStridePadding} convolution has a {what} per axis; read {read}.");

    /// <summary>"k3x3 s2 p1", or "k1x7 s1,1 p0,3" per axis: for logs and check names.</summary>
    public string KernelStridePadding => IsUniform
        ? $"k{KernelH}x{KernelW} s{StrideH} p{PaddingH}"
        : $"k{KernelH}x{KernelW} s{StrideH},{StrideW} p{PaddingH},{PaddingW}";

    public int InputLength => N * InChannels * InH * InW;
    public int OutputLength => N * OutChannels * OutH * OutW;
    public int WeightLength => OutChannels * InChannels * KernelH * KernelW;

    // ToString prints the fields only: the record's default would also read Stride and Padding, which throw per axis.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"N = {N}, InChannels = {InChannels}, InH = {InH}, InW = {InW}, OutChannels = {OutChannels}, ")
               .Append($"KernelH = {KernelH}, KernelW = {KernelW}, StrideH = {StrideH}, StrideW = {StrideW}, ")
               .Append($"PaddingH = {PaddingH}, PaddingW = {PaddingW}, OutH = {OutH}, OutW = {OutW}");
        return true;
    }
}

/// <summary>Adam hyper-parameters for one step (PyTorch semantics: L2 weight decay added to the gradient).</summary>
public readonly record struct AdamStepParameters(double LearningRate, double Beta1, double Beta2, double Epsilon, double WeightDecay, int Step);

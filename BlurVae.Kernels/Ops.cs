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
/// Geometry of a 2-D convolution x[n, cin, h, w] * w[cout, cin, kh, kw] → y[n, cout, outH, outW].
/// A transposed convolution is the same geometry read backwards (its input is this geometry's y).
/// </summary>
public readonly record struct ConvGeometry(
    int N, int InChannels, int InH, int InW,
    int OutChannels, int KernelH, int KernelW,
    int Stride, int Padding, int OutH, int OutW)
{
    /// <summary>The geometry of a forward convolution; output size follows PyTorch's floor formula.</summary>
    public static ConvGeometry ForConv(int n, int inChannels, int inH, int inW, int outChannels, int kernelH, int kernelW, int stride, int padding)
    {
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be >= 1");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be >= 0");
        int outH = (inH + 2 * padding - kernelH) / stride + 1;
        int outW = (inW + 2 * padding - kernelW) / stride + 1;
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"Convolution of a {inH}x{inW} input with a {kernelH}x{kernelW} kernel (stride {stride}, padding {padding}) has no output.");
        return new ConvGeometry(n, inChannels, inH, inW, outChannels, kernelH, kernelW, stride, padding, outH, outW);
    }

    /// <summary>
    /// The geometry whose backward-input pass is the transposed convolution x[n, cin, h, w] → y[n, cout, H', W'],
    /// H' = (h−1)·stride − 2·padding + kh + outputPadding (PyTorch's ConvTranspose2d).
    /// The returned geometry maps y (its "input") to x (its "output").
    /// </summary>
    public static ConvGeometry ForTransposed(int n, int inChannels, int inH, int inW, int outChannels, int kernelH, int kernelW, int stride, int padding, int outputPadding)
    {
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be >= 1");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must be >= 0");
        if (outputPadding < 0 || outputPadding >= stride)
            throw new ArgumentOutOfRangeException(nameof(outputPadding), outputPadding, "output padding must be >= 0 and smaller than the stride");
        int outH = (inH - 1) * stride - 2 * padding + kernelH + outputPadding;
        int outW = (inW - 1) * stride - 2 * padding + kernelW + outputPadding;
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"Transposed convolution of a {inH}x{inW} input has no output.");
        return new ConvGeometry(n, outChannels, outH, outW, inChannels, kernelH, kernelW, stride, padding, inH, inW);
    }

    public int InputLength => N * InChannels * InH * InW;
    public int OutputLength => N * OutChannels * OutH * OutW;
    public int WeightLength => OutChannels * InChannels * KernelH * KernelW;
}

/// <summary>Adam hyper-parameters for one step (PyTorch semantics: L2 weight decay added to the gradient).</summary>
public readonly record struct AdamStepParameters(double LearningRate, double Beta1, double Beta2, double Epsilon, double WeightDecay, int Step);

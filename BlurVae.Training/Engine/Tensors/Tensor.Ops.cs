
namespace BlurVae.Training.Engine.Tensors;

// The differentiable ops as methods, each a thin call into its Function (Autograd/Functions/<Op>Function.cs).
public sealed partial class Tensor
{
    // ---- elementwise ----
    public Tensor Relu() => UnaryFunction.Forward(UnaryOp.Relu, this);
    public Tensor LeakyRelu(double negativeSlope = 0.01) => UnaryFunction.Forward(UnaryOp.LeakyRelu, this, negativeSlope);
    public Tensor Relu6() => UnaryFunction.Forward(UnaryOp.Relu6, this);
    public Tensor Tanh() => UnaryFunction.Forward(UnaryOp.Tanh, this);
    public Tensor Sigmoid() => UnaryFunction.Forward(UnaryOp.Sigmoid, this);
    public Tensor Exp() => UnaryFunction.Forward(UnaryOp.Exp, this);
    public Tensor Log() => UnaryFunction.Forward(UnaryOp.Log, this);
    public Tensor Abs() => UnaryFunction.Forward(UnaryOp.Abs, this);
    public Tensor Square() => UnaryFunction.Forward(UnaryOp.Square, this);
    public Tensor Pow(double exponent) => UnaryFunction.Forward(UnaryOp.Pow, this, exponent);
    public Tensor Sqrt() => UnaryFunction.Forward(UnaryOp.Pow, this, 0.5);

    public static Tensor operator +(Tensor a, Tensor b) => BinaryFunction.Forward(BinaryOp.Add, a, b);
    public static Tensor operator -(Tensor a, Tensor b) => BinaryFunction.Forward(BinaryOp.Sub, a, b);
    public static Tensor operator *(Tensor a, Tensor b) => BinaryFunction.Forward(BinaryOp.Mul, a, b);
    public static Tensor operator /(Tensor a, Tensor b) => BinaryFunction.Forward(BinaryOp.Div, a, b);
    public static Tensor operator -(Tensor a) => UnaryFunction.Forward(UnaryOp.Scale, a, -1.0);
    public static Tensor operator *(Tensor a, double s) => UnaryFunction.Forward(UnaryOp.Scale, a, s);
    public static Tensor operator *(double s, Tensor a) => UnaryFunction.Forward(UnaryOp.Scale, a, s);
    public static Tensor operator /(Tensor a, double s) => UnaryFunction.Forward(UnaryOp.Scale, a, 1.0 / s);
    public static Tensor operator +(Tensor a, double s) => UnaryFunction.Forward(UnaryOp.AddScalar, a, s);
    public static Tensor operator +(double s, Tensor a) => UnaryFunction.Forward(UnaryOp.AddScalar, a, s);
    public static Tensor operator -(Tensor a, double s) => UnaryFunction.Forward(UnaryOp.AddScalar, a, -s);
    public static Tensor operator -(double s, Tensor a) => UnaryFunction.Forward(UnaryOp.AddScalar, -a, s);
    public static Tensor operator /(double s, Tensor a) => BinaryFunction.Forward(BinaryOp.Div, Scalar(s, a.DType, a.Backend), a);

    // ---- reductions ----
    /// <summary>Sum over the given axes (all when none).</summary>
    public Tensor Sum(int[]? axes = null, bool keepDims = false) => SumFunction.Forward(this, axes, keepDims);

    /// <summary>Mean over the given axes (all when none).</summary>
    public Tensor Mean(int[]? axes = null, bool keepDims = false)
    {
        long count = 1;
        if (axes is null || axes.Length == 0) count = Length;
        else foreach (var a in axes) count *= Shape[NormalizeAxis(a)];
        return Sum(axes, keepDims) * (1.0 / count);
    }

    // ---- shape ----
    public Tensor Reshape(params int[] shape) => ReshapeFunction.Forward(this, shape);

    /// <summary>Merges axes startAxis..end into one (PyTorch's flatten).</summary>
    public Tensor Flatten(int startAxis = 1)
    {
        int s = NormalizeAxis(startAxis);
        var shape = new int[s + 1];
        Array.Copy(Shape, shape, s);
        shape[s] = -1;
        return Reshape(shape);
    }

    public Tensor Narrow(int axis, int start, int length) => NarrowFunction.Forward(this, axis, start, length);

    /// <summary>Splits into `chunks` pieces along an axis (the last one smaller when uneven, as in torch.chunk).</summary>
    public Tensor[] Chunk(int chunks, int axis = 0)
    {
        if (chunks < 1) throw new ArgumentOutOfRangeException(nameof(chunks), chunks, "at least one chunk");
        int a = NormalizeAxis(axis), extent = Shape[a];
        int size = (extent + chunks - 1) / chunks;
        var parts = new List<Tensor>();
        for (int start = 0; start < extent; start += size)
            parts.Add(Narrow(a, start, Math.Min(size, extent - start)));
        return parts.ToArray();
    }

    /// <summary>The two halves along an axis of even extent, as one op each way (SplitFunction); Chunk(2) without its two copies.</summary>
    public (Tensor First, Tensor Second) SplitHalves(int axis) => SplitFunction.Forward(this, axis);

    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis = 0) => ConcatFunction.Forward(tensors, axis);

    // ---- linear algebra and layers ----
    public Tensor MatMul(Tensor other) => MatMulFunction.Forward(this, other);
    public Tensor Softmax() => SoftmaxFunction.Forward(this);
    /// <summary>Bilinear resize to outH × outW, align_corners = false (F.interpolate(size=…, mode="bilinear")).</summary>
    public Tensor ResizeBilinear(int outH, int outW) => ResizeBilinearFunction.Forward(this, outH, outW);
    /// <summary>max_pool2d: kernel k, stride s (floor mode), padding p that never wins the maximum.</summary>
    public Tensor MaxPool2d(int kernel, int stride, int padding = 0) =>
        Pool2dFunction.Pool(this, PoolMode.Max, (kernel, kernel), (stride, stride), (padding, padding));
    /// <summary>avg_pool2d: divides by the window's area with its padding (countIncludePad, PyTorch's default) or without.</summary>
    public Tensor AvgPool2d(int kernel, int stride, int padding = 0, bool countIncludePad = true) =>
        Pool2dFunction.Pool(this, PoolMode.Average, (kernel, kernel), (stride, stride), (padding, padding), countIncludePad);
    /// <summary>adaptive_avg_pool2d onto outH × outW (PyTorch's start/end index rule).</summary>
    public Tensor AdaptiveAvgPool2d(int outH, int outW) => Pool2dFunction.Adaptive(this, PoolMode.Average, outH, outW);
    public Tensor Rfft2(FftNorm norm = FftNorm.Backward) => Rfft2Function.Forward(this, norm);
    /// <summary>Inverse of Rfft2; `width` is the real signal's last extent.</summary>
    public Tensor Irfft2(int width, FftNorm norm = FftNorm.Backward) => Irfft2Function.Forward(this, width, norm);
}

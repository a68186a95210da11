
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// y = conv2d(x[N, Cin, H, W], w[Cout, Cin, kh, kw]) + b, with stride and zero padding, each per axis or one for both (PyTorch's Conv2d).
/// Backward: ∂x by the backend's backward-input pass (a transposed convolution), ∂w and ∂b by its backward-weight pass.
/// With <c>statistics</c> ([Cout, 2], made by the caller) the forward also writes y's per-channel batch statistics (mean,
/// centred sum of squares) for the BatchNorm after it (Sequential's Conv → BatchNorm fusion). They are not a
/// differentiable output: the BatchNorm's backward already accounts for its batch statistics' dependence on y, so
/// this node's backward is the same either way.
/// </summary>
public sealed class Conv2dFunction : Function
{
    private ConvGeometry _g;

    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, int stride, int padding, Tensor? statistics = null) =>
        Forward(x, weight, bias, (stride, stride), (padding, padding), statistics);

    /// <summary>With a stride and padding per axis (H, W), as PyTorch's tuple arguments.</summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, Tensor? statistics = null)
    {
        if (x.Rank != 4) throw new ArgumentException($"Conv2d expects input [N, C, H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if (weight.Rank != 4 || weight.Shape[1] != x.Shape[1])
            throw new ArgumentException($"Conv2d weight must be [Cout, {x.Shape[1]}, kh, kw], got {Tensor.ShapeString(weight.Shape)}.", nameof(weight));
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
            throw new ArgumentException($"Conv2d bias must be [{weight.Shape[0]}], got {Tensor.ShapeString(bias.Shape)}.", nameof(bias));
        var g = ConvGeometry.ForConv(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], weight.Shape[0], weight.Shape[2], weight.Shape[3], stride.H, stride.W, padding.H, padding.W);
        CheckStatistics(statistics, g.OutChannels, x);
        var y = Tensor.Empty([g.N, g.OutChannels, g.OutH, g.OutW], x.DType, x.Backend);
        x.Backend.Conv2dForward(y.Buffer, x.Buffer, weight.Buffer, bias?.Buffer, g, statistics?.Buffer);
        var fn = new Conv2dFunction { _g = g };
        return bias is null ? fn.Record(y, x, weight) : fn.Record(y, x, weight, bias);
    }

    public override Tensor?[] Backward(Tensor gy)
    {
        var grads = new Tensor?[Inputs.Length];
        Tensor x = Inputs[0], w = Inputs[1];
        grads[0] = GradOf(0, dx => gy.Backend.Conv2dBackwardInput(dx, gy.Buffer, w.Buffer, _g));
        bool wantBias = Inputs.Length > 2 && NeedsGrad(2);
        if (NeedsGrad(1) || wantBias)
        {
            var dw = w.EmptyLike();
            var db = wantBias ? Inputs[2].EmptyLike() : null;
            gy.Backend.Conv2dBackwardWeight(dw.Buffer, db?.Buffer, gy.Buffer, x.Buffer, _g);
            if (NeedsGrad(1)) grads[1] = dw;
            if (wantBias) grads[2] = db;
        }
        return grads;
    }

    /// <summary>The statistics output of either convolution: [channels, 2], on x's backend and in its precision.</summary>
    internal static void CheckStatistics(Tensor? statistics, int channels, Tensor x)
    {
        if (statistics is null) return;
        if (statistics.Rank != 2 || statistics.Shape[0] != channels || statistics.Shape[1] != 2 || statistics.DType != x.DType || statistics.Backend != x.Backend)
            throw new ArgumentException($"Convolution statistics must be [{channels}, 2] {x.DType} on {x.Backend.Name}, got {Tensor.ShapeString(statistics.Shape)} {statistics.DType}.",
                nameof(statistics));
    }
}

/// <summary>
/// PyTorch's ConvTranspose2d: x[N, Cin, H, W], w[Cin, Cout, kh, kw] → y[N, Cout, (H−1)s − 2p + kh + op, …].
/// It is the adjoint of a convolution from y's shape to x's, so forward is that convolution's backward-input
/// pass, ∂x is its forward pass, and ∂w its backward-weight pass with the roles of x and ∂y swapped. Statistics
/// ([Cout, 2]) as Conv2dFunction's.
/// </summary>
public sealed class ConvTranspose2dFunction : Function
{
    private ConvGeometry _g;

    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, int stride, int padding, int outputPadding, Tensor? statistics = null)
    {
        if (x.Rank != 4) throw new ArgumentException($"ConvTranspose2d expects input [N, C, H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if (weight.Rank != 4 || weight.Shape[0] != x.Shape[1])
            throw new ArgumentException($"ConvTranspose2d weight must be [{x.Shape[1]}, Cout, kh, kw], got {Tensor.ShapeString(weight.Shape)}.", nameof(weight));
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[1]))
            throw new ArgumentException($"ConvTranspose2d bias must be [{weight.Shape[1]}], got {Tensor.ShapeString(bias.Shape)}.", nameof(bias));
        var g = ConvGeometry.ForTransposed(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], weight.Shape[1], weight.Shape[2], weight.Shape[3], stride, padding, outputPadding);
        Conv2dFunction.CheckStatistics(statistics, g.InChannels, x);
        int[] yShape = [g.N, g.InChannels, g.InH, g.InW];
        var y = Tensor.Empty(yShape, x.DType, x.Backend);
        x.Backend.Conv2dBackwardInput(y.Buffer, x.Buffer, weight.Buffer, g, bias?.Buffer, statistics?.Buffer); // the bias in the epilogue, as Conv2d's
        var fn = new ConvTranspose2dFunction { _g = g };
        return bias is null ? fn.Record(y, x, weight) : fn.Record(y, x, weight, bias);
    }

    public override Tensor?[] Backward(Tensor gy)
    {
        var grads = new Tensor?[Inputs.Length];
        Tensor x = Inputs[0], w = Inputs[1];
        grads[0] = GradOf(0, dx => gy.Backend.Conv2dForward(dx, gy.Buffer, w.Buffer, null, _g));
        grads[1] = GradOf(1, dw => gy.Backend.Conv2dBackwardWeight(dw, null, x.Buffer, gy.Buffer, _g));
        if (Inputs.Length > 2) grads[2] = GradOf(2, db => gy.Backend.SumTo(db, [1, _g.InChannels, 1, 1], gy.Buffer, gy.Shape));
        return grads;
    }
}

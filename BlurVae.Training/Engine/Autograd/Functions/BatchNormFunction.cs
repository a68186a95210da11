
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// Batch normalisation of x[N, C, ...] per channel. In training it uses the batch statistics (and updates the
/// running ones, unbiased variance, PyTorch's momentum convention); in evaluation it uses the running statistics.
/// In training, <c>statistics</c> (a convolution's, [C, 2]) are taken as the batch statistics instead of computing them.
/// </summary>
public sealed class BatchNormFunction : Function
{
    private bool _training;
    private double _eps;
    private Tensor _saveMean = null!, _saveInvStd = null!;
    private Tensor? _runningMean, _runningVar;
    private bool _affine;

    public static Tensor Forward(Tensor x, Tensor? gamma, Tensor? beta, Tensor? runningMean, Tensor? runningVar, bool training, double momentum, double eps,
        Tensor? statistics = null)
    {
        var (n, c, spatial) = CheckShapes(x, gamma, beta, runningMean, runningVar);
        Conv2dFunction.CheckStatistics(statistics, c, x);
        if (statistics is not null && !training) throw new ArgumentException("Batch statistics are for training mode; evaluation uses the running statistics.", nameof(statistics));
        var y = x.EmptyLike();
        var fn = new BatchNormFunction { _training = training, _eps = eps, _affine = gamma is not null };
        if (training)
        {
            fn._saveMean = fn.Own(Tensor.Empty([c], x.DType, x.Backend));
            fn._saveInvStd = fn.Own(Tensor.Empty([c], x.DType, x.Backend));
            x.Backend.BatchNormForwardTraining(y.Buffer, fn._saveMean.Buffer, fn._saveInvStd.Buffer, x.Buffer, gamma?.Buffer, beta?.Buffer,
                runningMean?.Buffer, runningVar?.Buffer, n, c, spatial, eps, momentum, statistics?.Buffer);
        }
        else
        {
            if (runningMean is null || runningVar is null)
                throw new InvalidOperationException("BatchNorm in evaluation mode needs running statistics.");
            // Running statistics are copied: the next training step updates them in place.
            fn._runningMean = fn.Own(runningMean.Clone());
            fn._runningVar = fn.Own(runningVar.Clone());
            x.Backend.BatchNormForwardInference(y.Buffer, x.Buffer, runningMean.Buffer, runningVar.Buffer, gamma?.Buffer, beta?.Buffer, n, c, spatial, eps);
        }
        return gamma is null ? fn.Record(y, x) : fn.Record(y, x, gamma, beta!);
    }

    /// <summary>x viewed as [n, c, spatial], after checking that the per-channel tensors are [c] (shared with the fused op).</summary>
    internal static (int N, int C, int Spatial) CheckShapes(Tensor x, Tensor? gamma, Tensor? beta, Tensor? runningMean, Tensor? runningVar)
    {
        if (x.Rank < 2) throw new ArgumentException($"BatchNorm expects [N, C, ...], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        if ((gamma is null) != (beta is null)) throw new ArgumentException("BatchNorm needs both gamma and beta, or neither.");
        int n = x.Shape[0], c = x.Shape[1], spatial = x.Length / Math.Max(1, n * c);
        foreach (var (t, name) in new[] { (gamma, "gamma"), (beta, "beta"), (runningMean, "running mean"), (runningVar, "running variance") })
            if (t is not null && (t.Rank != 1 || t.Shape[0] != c))
                throw new ArgumentException($"BatchNorm {name} must be [{c}], got {Tensor.ShapeString(t.Shape)}.");
        return (n, c, spatial);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        int n = x.Shape[0], c = x.Shape[1], spatial = x.Length / Math.Max(1, n * c);
        var dx = x.EmptyLike();
        Tensor? gamma = _affine ? Inputs[1] : null;
        Tensor? dgamma = _affine ? gamma!.EmptyLike() : null, dbeta = _affine ? Inputs[2].EmptyLike() : null;
        if (_training)
            g.Backend.BatchNormBackward(dx.Buffer, dgamma?.Buffer, dbeta?.Buffer, g.Buffer, x.Buffer, _saveMean.Buffer, _saveInvStd.Buffer, gamma?.Buffer, n, c, spatial);
        else
            g.Backend.BatchNormBackwardInference(dx.Buffer, dgamma?.Buffer, dbeta?.Buffer, g.Buffer, x.Buffer, _runningMean!.Buffer, _runningVar!.Buffer, gamma?.Buffer, n, c, spatial, _eps);
        return _affine ? [dx, dgamma, dbeta] : [dx];
    }
}


namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// LeakyReLU(BatchNorm(x)) over x[N, C, ...] with batch statistics (training mode; the running statistics are
/// updated as BatchNormFunction does): one backend op each way (IBackend.BatchNormLeakyRelu*), so the normalised
/// value is never stored. Backward reads the LeakyReLU branch from the output, which it saves. With
/// <c>statistics</c> (a convolution's, [C, 2]) the forward takes the batch statistics instead of computing them; the
/// backward is the same (it differentiates through the batch statistics of x either way).
/// </summary>
public sealed class BatchNormLeakyReluFunction : Function
{
    private double _negativeSlope;
    private Tensor _y = null!, _saveMean = null!, _saveInvStd = null!;

    public static Tensor Forward(Tensor x, Tensor? gamma, Tensor? beta, Tensor? runningMean, Tensor? runningVar, double momentum, double eps, double negativeSlope,
        Tensor? statistics = null)
    {
        var (n, c, spatial) = BatchNormFunction.CheckShapes(x, gamma, beta, runningMean, runningVar);
        Conv2dFunction.CheckStatistics(statistics, c, x);
        if (!(negativeSlope >= 0)) throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, "the fused BatchNorm → LeakyReLU needs a negative slope ≥ 0");
        var y = x.EmptyLike();
        var fn = new BatchNormLeakyReluFunction { _negativeSlope = negativeSlope, _y = y };
        // Saved privately: the node owns them, so backward returns them to the cache when it completes.
        fn._saveMean = fn.Own(Tensor.Empty([c], x.DType, x.Backend));
        fn._saveInvStd = fn.Own(Tensor.Empty([c], x.DType, x.Backend));
        x.Backend.BatchNormLeakyReluForwardTraining(y.Buffer, fn._saveMean.Buffer, fn._saveInvStd.Buffer, x.Buffer, gamma?.Buffer, beta?.Buffer,
            runningMean?.Buffer, runningVar?.Buffer, n, c, spatial, eps, momentum, negativeSlope, statistics?.Buffer);
        return gamma is null ? fn.Record(y, x) : fn.Record(y, x, gamma, beta!);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        int n = x.Shape[0], c = x.Shape[1], spatial = x.Length / Math.Max(1, n * c);
        bool affine = Inputs.Length > 1;
        Tensor? gamma = affine ? Inputs[1] : null;
        var dx = x.EmptyLike();
        Tensor? dgamma = affine ? gamma!.EmptyLike() : null, dbeta = affine ? Inputs[2].EmptyLike() : null;
        g.Backend.BatchNormLeakyReluBackward(dx.Buffer, dgamma?.Buffer, dbeta?.Buffer, g.Buffer, _y.Buffer, x.Buffer, _saveMean.Buffer, _saveInvStd.Buffer,
            gamma?.Buffer, n, c, spatial, _negativeSlope);
        return affine ? [dx, dgamma, dbeta] : [dx];
    }
}

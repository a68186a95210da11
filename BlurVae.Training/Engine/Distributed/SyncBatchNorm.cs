
namespace BlurVae.Training.Engine.Distributed;

/// <summary>
/// Batch normalisation in training mode with the statistics of the global batch (all ranks' shards together), as
/// PyTorch's SyncBatchNorm: the per-channel sum and then the centred sum of squares are all-reduced
/// (<see cref="AllReduceFunction"/>), so the forward and — through autograd — the backward equal one process's
/// BatchNorm over the whole batch. Two passes, like the fused kernel, so the variance keeps float32's precision.
/// Every rank's shard has the same size (the trainer splits each global batch evenly).
/// </summary>
public static class SyncBatchNorm
{
    public static Tensor Forward(Tensor x, Tensor? gamma, Tensor? beta, Tensor runningMean, Tensor runningVar, double momentum, double eps, ICollectives collectives)
    {
        if (x.Rank < 2) throw new ArgumentException($"BatchNorm expects [N, C, ...], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        int channels = x.Shape[1];
        int[] axes = Enumerable.Range(0, x.Rank).Where(a => a != 1).ToArray();
        int[] statShape = Enumerable.Range(0, x.Rank).Select(a => a == 1 ? channels : 1).ToArray();
        double count = (double)(x.Length / channels) * collectives.WorldSize;

        var mean = AllReduceFunction.Forward(x.Sum(axes, keepDims: true), collectives) * (1.0 / count);
        var centred = x - mean;
        var variance = AllReduceFunction.Forward(centred.Square().Sum(axes, keepDims: true), collectives) * (1.0 / count);
        var y = centred * (variance + eps).Pow(-0.5);
        if (gamma is not null) y = y * gamma.Reshape(statShape) + beta!.Reshape(statShape);

        // Running statistics as BatchNormFunction keeps them: momentum-weighted, the variance unbiased (count − 1).
        using (GradMode.NoGrad())
        {
            var newMean = runningMean * (1 - momentum) + mean.Detach().Reshape(channels) * momentum;
            var newVar = runningVar * (1 - momentum) + variance.Detach().Reshape(channels) * (momentum * count / Math.Max(1, count - 1));
            runningMean.Backend.Copy(runningMean.Buffer, newMean.Buffer);
            runningVar.Backend.Copy(runningVar.Buffer, newVar.Buffer);
        }
        return y;
    }
}

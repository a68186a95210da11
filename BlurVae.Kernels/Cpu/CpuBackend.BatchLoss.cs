namespace BlurVae.Kernels.Cpu;

// The batch value of the fused per-item losses (Wiener weight, blur-kernel fit, KL; the CPU twin of
// finish_batch_loss in kernels/common.cuh): each op writes one value per item and their scaled sum loss[0] in the same
// call, and its backward starts from the one-element upstream gradient times the same scale.
public sealed partial class CpuBackend
{
    /// <summary>The sizes of a batch loss: loss [1] and one value per item, n ≥ 1 (as GpuDevice.CheckBatchLoss).</summary>
    private static void CheckBatchLoss(BackendBuffer loss, BackendBuffer perItem, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ShapeRules.Length(loss, 1, nameof(loss));
        ShapeRules.Length(perItem, n, nameof(perItem));
    }

    /// <summary>
    /// loss[0] = scale·Σ_i perItem[i], summed in index order in double and rounded once (the device's last block sums
    /// the same values in float, by a fixed tree): the batch value of the fused losses (Wiener weight, blur-kernel fit, KL).
    /// </summary>
    private static void BatchLoss(BackendBuffer loss, BackendBuffer perItem, int n, double scale)
    {
        if (IsF32(loss)) BatchLoss(Arr<float>(loss), Arr<float>(perItem), n, scale);
        else BatchLoss(Arr<double>(loss), Arr<double>(perItem), n, scale);
    }

    private static void BatchLoss<T>(T[] loss, T[] perItem, int n, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += double.CreateTruncating(perItem[i]);
        loss[0] = T.CreateTruncating(scale * s);
    }

    /// <summary>g = dLoss[0]·scale in T, the factor every element of a fused loss's backward starts from (as the kernels' dloss[0]·scale).</summary>
    private static T ScaledGrad<T>(BackendBuffer dLoss, double scale) where T : unmanaged, IFloatingPointIeee754<T> =>
        Arr<T>(dLoss)[0] * T.CreateTruncating(scale);
}

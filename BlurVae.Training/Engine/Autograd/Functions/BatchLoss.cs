
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// The forward rule of the fused batch losses (WienerWeightFunction, BlurKernelFitFunction, LatentFunction's KL): the backend op
/// writes every item's value into a [N] tensor and their scaled sum into the one-element output in one call
/// (IBackend's fused-loss rule), so no reduction or scaling op follows it.
/// </summary>
internal static class BatchLoss
{
    /// <summary>
    /// Runs <paramref name="op"/>(loss, perItem) and returns loss (shape [], like a full Sum()). <paramref name="perItem"/>
    /// is the caller's [N] tensor to fill, or null for a temporary that goes back to the backend right after the op.
    /// </summary>
    public static Tensor Run(Tensor like, int n, Tensor? perItem, Action<BackendBuffer, BackendBuffer> op)
    {
        if (perItem is not null && (perItem.Rank != 1 || perItem.Shape[0] != n || perItem.DType != like.DType || !ReferenceEquals(perItem.Backend, like.Backend)))
            throw new ArgumentException($"the per-item values must be [{n}] {like.DType} on {like.Backend.Name}, got {Tensor.ShapeString(perItem.Shape)} {perItem.DType} on {perItem.Backend.Name}.", nameof(perItem));
        var loss = Tensor.Empty([], like.DType, like.Backend);
        var items = perItem ?? Tensor.Empty([n], like.DType, like.Backend);
        op(loss.Buffer, items.Buffer);
        if (perItem is null) items.Release();
        return loss;
    }
}

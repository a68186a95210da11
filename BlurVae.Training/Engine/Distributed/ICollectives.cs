
namespace BlurVae.Training.Engine.Distributed;

/// <summary>
/// The collectives of data-parallel training, one interface for every transport (MPI on host memory, NCCL on device
/// memory, and a single process). Every rank calls the same operations in the same order with tensors of the same
/// shapes and dtypes. It lives in the engine (not the kernels) because it works on tensors and lists of parameters,
/// and the engine's <see cref="SyncBatchNorm"/> needs it; the transports that implement it are the app's.
/// </summary>
public interface ICollectives : IDisposable
{
    /// <summary>This process's rank, 0 … WorldSize − 1.</summary>
    int Rank { get; }

    int WorldSize { get; }

    /// <summary>"MPI", "NCCL" or "single process", for the log.</summary>
    string Name { get; }

    /// <summary>
    /// Replaces every tensor by its sum over the ranks, or by the mean when <paramref name="average"/>, in place, in
    /// buckets of about <see cref="TensorBuckets.DefaultBytes"/>.
    /// </summary>
    void AllReduce(IReadOnlyList<Tensor> tensors, bool average);

    /// <summary>Overwrites every tensor with rank <paramref name="root"/>'s values.</summary>
    void Broadcast(IReadOnlyList<Tensor> tensors, int root = 0);

    /// <summary>Sums host values over the ranks in place (loss sums, metric lists, counts).</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>Seconds spent in collectives since the last call (communication and staging), then restarts the count.</summary>
    double TakeSeconds();
}

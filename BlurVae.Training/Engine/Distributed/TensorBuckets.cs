
namespace BlurVae.Training.Engine.Distributed;

/// <summary>
/// Splits a list of tensors into buckets of one dtype and at most about <see cref="DefaultBytes"/> each (PyTorch
/// DDP's bucket_cap_mb = 25): one collective per bucket instead of one per tensor (latency), yet no staging copy of the
/// whole model at once (memory). A tensor larger than the cap is a bucket of its own. The order is the list's on
/// every rank, so all ranks form the same buckets.
/// </summary>
public static class TensorBuckets
{
    public const long DefaultBytes = 25L << 20;

    public static IEnumerable<IReadOnlyList<Tensor>> Split(IReadOnlyList<Tensor> tensors, long capBytes = DefaultBytes)
    {
        foreach (var group in tensors.GroupBy(t => t.DType))
        {
            var bucket = new List<Tensor>();
            long bytes = 0;
            foreach (var t in group)
            {
                long size = (long)t.Length * (t.DType == DType.Float64 ? 8 : 4);
                if (bucket.Count > 0 && bytes + size > capBytes)
                {
                    yield return bucket;
                    bucket = [];
                    bytes = 0;
                }
                bucket.Add(t);
                bytes += size;
            }
            if (bucket.Count > 0) yield return bucket;
        }
    }
}

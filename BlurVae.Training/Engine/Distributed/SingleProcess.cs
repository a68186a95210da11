
namespace BlurVae.Training.Engine.Distributed;

/// <summary>A world of one: every collective leaves its data as it is (the sum and the mean of one rank are itself).</summary>
public sealed class SingleProcess : ICollectives
{
    public static readonly SingleProcess Instance = new();

    public int Rank => 0;
    public int WorldSize => 1;
    public string Name => "single process";
    public void AllReduce(IReadOnlyList<Tensor> tensors, bool average) { }
    public void Broadcast(IReadOnlyList<Tensor> tensors, int root = 0) { }
    public void AllReduceSum(Span<double> values) { }
    public void Barrier() { }
    public double TakeSeconds() => 0;
    public void Dispose() { }
}


namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// A node with several outputs (recorded with <see cref="Function.RecordOutputs"/>): BackwardPass runs it once, with
/// every output's gradient, so such a node implements only <see cref="Backward(Tensor?[])"/>.
/// </summary>
public abstract class MultiOutputFunction : Function
{
    public sealed override Tensor?[] Backward(Tensor gradOutput) =>
        throw new InvalidOperationException($"{this} has several outputs; BackwardPass calls Backward(Tensor?[]).");

    public abstract override Tensor?[] Backward(Tensor?[] gradOutputs);
}

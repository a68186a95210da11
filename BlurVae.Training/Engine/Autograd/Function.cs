using BlurVae.Training.Engine.Tensors;

namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// A recorded op: the inputs it read, whatever it saved, and its backward rule. Each concrete Function has a
/// static Forward that computes the output and records the node, and an override of Backward beside it.
/// </summary>
public abstract class Function
{
    /// <summary>The op's inputs, in the order Backward returns their gradients.</summary>
    public Tensor[] Inputs { get; private set; } = [];

    /// <summary>Whether input i wants a gradient; Backward may skip work for the others.</summary>
    protected bool NeedsGrad(int i) => Inputs[i].RequiresGrad;

    /// <summary>Gradients of the loss with respect to each input (null where not needed), given the output's gradient.</summary>
    public abstract Tensor?[] Backward(Tensor gradOutput);

    /// <summary>Links output to this node when grad mode is on and some input requires a gradient.</summary>
    protected Tensor Record(Tensor output, params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return output;
        foreach (var input in inputs)
        {
            if (!input.RequiresGrad) continue;
            Inputs = inputs;
            output.Creator = this;
            output.RequiresGrad = true;
            return output;
        }
        return output;
    }

    public override string ToString() => GetType().Name;
}

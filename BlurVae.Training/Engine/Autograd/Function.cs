
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// A recorded op: the inputs it read, whatever it saved, and its backward rule. Each concrete Function has a
/// static Forward that computes the output and records the node, and an override of Backward beside it.
/// Buffers follow the ownership rule of the Autograd README: a recorded output is held by its graph and returned
/// to the backend once backward has finished with it (<see cref="BackwardPass"/>).
/// </summary>
public abstract class Function
{
    private List<Tensor>? _owned;

    /// <summary>The op's inputs, in the order Backward returns their gradients.</summary>
    public Tensor[] Inputs { get; private set; } = [];

    /// <summary>True once backward has finished with this node and returned what it held; it cannot run again.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>Whether input i wants a gradient; Backward may skip work for the others.</summary>
    protected bool NeedsGrad(int i) => Inputs[i].RequiresGrad;

    /// <summary>
    /// The gradient of input i when it wants one: a new tensor shaped like the input, filled by
    /// <paramref name="fill"/> (a backend op writing into the buffer); null, and no work, when it does not.
    /// </summary>
    protected Tensor? GradOf(int i, Action<BackendBuffer> fill)
    {
        if (!NeedsGrad(i)) return null;
        var grad = Inputs[i].EmptyLike();
        fill(grad.Buffer);
        return grad;
    }

    /// <summary>The outputs of a node with several (<see cref="RecordOutputs"/>); null for a node with one.</summary>
    public Tensor[]? Outputs { get; private set; }

    /// <summary>Gradients of the loss with respect to each input (null where not needed), given the output's gradient.</summary>
    public abstract Tensor?[] Backward(Tensor gradOutput);

    /// <summary>
    /// The backward of a node with several outputs (a <see cref="MultiOutputFunction"/>), run once per pass when the
    /// pass has reached all of them that it reaches: gradOutputs[k] for output k, null where no gradient reached it.
    /// </summary>
    public virtual Tensor?[] Backward(Tensor?[] gradOutputs) =>
        throw new InvalidOperationException($"{this} has one output; BackwardPass calls Backward(Tensor).");

    /// <summary>Links output to this node when grad mode is on and some input requires a gradient.</summary>
    protected Tensor Record(Tensor output, params Tensor[] inputs)
    {
        bool recorded = false;
        if (GradMode.IsEnabled)
            foreach (var input in inputs)
                if (input.RequiresGrad)
                {
                    recorded = true;
                    break;
                }
        foreach (var input in inputs)
        {
            // A view (the output shares an input's buffer) of a tensor the graph does not own keeps that buffer
            // out of the graph's hands: the graph may not release what a leaf or an unrecorded tensor still shows.
            if (ReferenceEquals(input.Buffer, output.Buffer) && (!recorded || input.IsLeaf)) output.Buffer.Pin();
        }
        if (!recorded) return output;
        Inputs = inputs;
        output.Creator = this;
        output.RequiresGrad = true;
        output.Buffer.Hold();
        foreach (var input in inputs)
            if (!input.IsLeaf) input.PendingUses++;
        return output;
    }

    /// <summary>
    /// <see cref="Record"/> for a node with several outputs (fresh buffers, no views): each is linked to this node and
    /// held by the graph; the node counts one use of each input, as a node with one output does.
    /// </summary>
    protected Tensor[] RecordOutputs(Tensor[] outputs, params Tensor[] inputs)
    {
        if (outputs.Length < 2) throw new ArgumentException("RecordOutputs is for nodes with several outputs; use Record.", nameof(outputs));
        Record(outputs[0], inputs);
        if (outputs[0].Creator != this) return outputs;
        Outputs = outputs;
        for (int k = 1; k < outputs.Length; k++)
        {
            outputs[k].Creator = this;
            outputs[k].RequiresGrad = true;
            outputs[k].Buffer.Hold();
        }
        return outputs;
    }

    /// <summary>
    /// Saves a tensor only this node uses (statistics, copies): it is returned to the backend with the node once
    /// backward is done with it. Returns <paramref name="saved"/>.
    /// </summary>
    protected Tensor Own(Tensor saved)
    {
        saved.Buffer.Hold();
        (_owned ??= []).Add(saved);
        return saved;
    }

    /// <summary>Throws when backward reaches a node that an earlier pass has already released.</summary>
    internal void CheckNotReleased()
    {
        if (IsReleased)
            throw new InvalidOperationException($"Backward reached {this} a second time, but the first pass has released what it saved. " +
                                                "Build the graph again (one Backward() per graph), or Keep() what a second pass needs.");
    }

    /// <summary>
    /// Backward is done with this node for good (its output has no pending consumers): drops what it owns, and
    /// counts this use of each input as finished so that their producers may release them in turn.
    /// </summary>
    internal void ReleaseSaved()
    {
        if (IsReleased) return;
        IsReleased = true;
        if (_owned is not null)
            foreach (var t in _owned) t.Buffer.Drop();
        _owned = null;
        foreach (var input in Inputs)
            if (!input.IsLeaf) input.PendingUses--;
    }

    public override string ToString() => GetType().Name;
}

using BlurVae.Training.Engine.Tensors;

namespace BlurVae.Training.Engine.Autograd;

/// <summary>Reverse-mode differentiation: a topological order of the graph, walked backwards.</summary>
public static class BackwardPass
{
    public static void Run(Tensor root, Tensor? seed)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"Backward() on {root}, which does not require a gradient (no parameter or input with RequiresGrad led to it).");
        if (seed is null)
        {
            if (root.Length != 1)
                throw new InvalidOperationException($"Backward() without a gradient needs a one-element tensor, not {Tensor.ShapeString(root.Shape)}.");
            seed = Tensor.Ones(root.Shape, root.DType, root.Backend);
        }
        CheckGradient(root, seed, "the seed");

        var order = TopologicalOrder(root);
        var grads = new Dictionary<Tensor, GradSlot>(ReferenceEqualityComparer.Instance);
        if (root.IsLeaf)
        {
            Accumulate(root, seed);
            return;
        }
        grads[root] = new GradSlot { Grad = seed };

        using var _ = GradMode.NoGrad();
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            if (!grads.Remove(t, out var slot) || slot.Grad is null) continue;
            var fn = t.Creator!;
            var inputGrads = fn.Backward(slot.Grad);
            if (inputGrads.Length != fn.Inputs.Length)
                throw new InvalidOperationException($"{fn} returned {inputGrads.Length} gradients for {fn.Inputs.Length} inputs.");
            for (int k = 0; k < inputGrads.Length; k++)
            {
                var input = fn.Inputs[k];
                var g = inputGrads[k];
                if (g is null || !input.RequiresGrad) continue;
                CheckGradient(input, g, $"{fn}'s gradient for input {k}");
                if (input.IsLeaf)
                {
                    Accumulate(input, g);
                }
                else
                {
                    if (!grads.TryGetValue(input, out var s)) grads[input] = s = new GradSlot();
                    s.Add(g);
                }
            }
        }
    }

    private static void CheckGradient(Tensor t, Tensor g, string what)
    {
        if (!g.Shape.AsSpan().SequenceEqual(t.Shape))
            throw new InvalidOperationException($"{what} has shape {Tensor.ShapeString(g.Shape)}, expected {Tensor.ShapeString(t.Shape)}.");
        if (g.DType != t.DType)
            throw new InvalidOperationException($"{what} is {g.DType}, expected {t.DType}.");
    }

    /// <summary>Adds g into a leaf's .Grad (in place once the leaf owns its gradient buffer).</summary>
    internal static void Accumulate(Tensor leaf, Tensor g)
    {
        var grad = leaf.Grad;
        bool owned = leaf.GradIsOwned;
        AddInto(ref grad, ref owned, g);
        leaf.Grad = grad;
        leaf.GradIsOwned = owned;
    }

    /// <summary>
    /// grad += g. The first gradient is kept as given, and it may be shared with another tensor (Add passes its
    /// gradient through to both inputs), so the first accumulation copies before writing; later ones add in place.
    /// </summary>
    private static void AddInto(ref Tensor? grad, ref bool owned, Tensor g)
    {
        if (grad is null)
        {
            grad = g;
            owned = false;
            return;
        }
        if (!owned)
        {
            grad = grad.Clone();
            owned = true;
        }
        grad.Backend.Axpby(grad.Buffer, 1.0, g.Buffer, 1.0);
    }

    private sealed class GradSlot
    {
        public Tensor? Grad;
        private bool _owned;

        public void Add(Tensor g) => AddInto(ref Grad, ref _owned, g);
    }

    /// <summary>Tensors requiring grad reachable from root, each after all tensors it was computed from.</summary>
    internal static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        // Iterative DFS: deep networks would overflow a recursive one.
        var stack = new Stack<(Tensor Node, int NextInput)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var inputs = node.Creator?.Inputs ?? [];
            if (next < inputs.Length)
            {
                stack.Push((node, next + 1));
                var child = inputs[next];
                if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else
            {
                order.Add(node);
            }
        }
        return order;
    }
}

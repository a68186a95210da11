using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

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
            seed = UnitSeed(root);
        }
        // Neither the shared unit seed nor a caller's seed belongs to the pass.
        var pass = new Pass(BackendBuffer.CreatedCount);
        CheckGradient(root, seed, null, 0);
        // The caller holds the root (the loss) to read it: never released by this pass.
        root.Buffer.Pin();

        var scratch = Scratch.Rent();
        try
        {
            Walk(root, seed, pass, scratch);
        }
        finally
        {
            scratch.Return();
        }
    }

    private static void Walk(Tensor root, Tensor seed, Pass pass, Scratch scratch)
    {
        var order = TopologicalOrder(root, scratch);
        var grads = scratch.Grads;
        if (root.IsLeaf)
        {
            Accumulate(root, seed, pass);
            return;
        }
        var rootSlot = new GradSlot(pass);
        rootSlot.Add(seed);
        grads[root] = rootSlot;

        using var _ = GradMode.NoGrad();
        var created = scratch.Created;
        var several = scratch.Several;
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            if (t.IsLeaf) continue;
            var fn = t.Creator!;
            if (fn.Outputs is { } outputs)
            {
                // A node with several outputs runs once, at the last of its outputs this pass reaches: every consumer of
                // every output has run by then.
                var slots = several.Gather(fn, t, grads.Remove(t, out var s) ? s : null);
                if (slots is null) continue;
                if (slots.Any(x => x?.Grad is not null))
                    RunNode(fn, null, slots.Select(x => x?.Grad).ToArray(), grads, pass, created);
                foreach (var x in slots) x?.Consumed();
                if (outputs.All(o => o.PendingUses == 0))
                {
                    fn.ReleaseSaved();
                    foreach (var o in outputs) o.Buffer.Drop();
                }
                continue;
            }
            if (grads.Remove(t, out var slot) && slot.Grad is not null)
            {
                RunNode(fn, slot.Grad, null, grads, pass, created);
                slot.Consumed();
            }
            // Every consumer of t in this graph has run (reverse topological order); when none is left in any
            // other graph either, nothing can reach t's node again, so its buffers go back to the backend now.
            if (t.PendingUses == 0)
            {
                fn.ReleaseSaved();
                t.Buffer.Drop();
            }
        }
    }

    /// <summary>
    /// The collections of a pass, kept per thread from one pass to the next (cleared, so they hold no tensor between
    /// passes): rebuilt every step they were a sizeable part of a training step's managed allocation. A pass started
    /// inside another on the same thread (a hook's backward) finds none and makes its own.
    /// </summary>
    private sealed class Scratch
    {
        [ThreadStatic] private static Scratch? _kept;

        public readonly List<Tensor> Order = [];
        public readonly HashSet<Tensor> Visited = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<(Tensor Node, int NextInput)> Stack = new();
        public readonly Dictionary<Tensor, GradSlot> Grads = new(ReferenceEqualityComparer.Instance);
        public readonly List<BackendBuffer> Created = [];
        public readonly SeveralOutputs Several = new();

        public static Scratch Rent()
        {
            var s = _kept ?? new Scratch();
            _kept = null;
            return s;
        }

        public void Return()
        {
            Order.Clear();
            Visited.Clear();
            Stack.Clear();
            Grads.Clear();
            Created.Clear();
            Several.Clear();
            _kept = this;
        }
    }

    /// <summary>Runs one node's backward (with its one output's gradient, or every output's) and hands its input
    /// gradients out; the caller's slots let go afterwards.</summary>
    private static void RunNode(Function fn, Tensor? gradOutput, Tensor?[]? gradOutputs, Dictionary<Tensor, GradSlot> grads, Pass pass, List<BackendBuffer> created)
    {
        fn.CheckNotReleased();
        created.Clear();
        Tensor?[] inputGrads;
        using (BackendBuffer.TrackCreated(created)) inputGrads = gradOutputs is null ? fn.Backward(gradOutput!) : fn.Backward(gradOutputs);
        if (inputGrads.Length != fn.Inputs.Length)
            throw new InvalidOperationException($"{fn} returned {inputGrads.Length} gradients for {fn.Inputs.Length} inputs.");
        // Handed out before the slots let go: a returned gradient may be a view of a slot's own buffer.
        Distribute(fn, inputGrads, grads, pass);
        // What the node's backward made and nobody holds now (its temporaries, gradients for inputs that
        // need none) goes back at once; a backward that caches a buffer for later pins it.
        foreach (var b in created) b.ReleaseIfUnclaimed();
    }

    /// <summary>The gradient slots of nodes with several outputs, gathered until the pass has reached all of a node's
    /// outputs that it reaches.</summary>
    private sealed class SeveralOutputs
    {
        private readonly Dictionary<Function, (GradSlot?[] Slots, int Left)> _nodes = new(ReferenceEqualityComparer.Instance);

        /// <summary>The tensors this pass reaches (its topological order).</summary>
        public HashSet<Tensor> Reached { get; set; } = null!;

        public void Clear() => _nodes.Clear();

        /// <summary>Adds output t's slot; returns every output's slot (null where none) once t is the node's last, else null.</summary>
        public GradSlot?[]? Gather(Function fn, Tensor t, GradSlot? slot)
        {
            var outputs = fn.Outputs!;
            if (!_nodes.TryGetValue(fn, out var node)) node = (new GradSlot?[outputs.Length], outputs.Count(Reached.Contains));
            node.Slots[Array.IndexOf(outputs, t)] = slot;
            node.Left--;
            if (node.Left > 0)
            {
                _nodes[fn] = node;
                return null;
            }
            _nodes.Remove(fn);
            return node.Slots;
        }
    }

    /// <summary>Hands each input's gradient to its leaf (accumulated into .Grad) or to its slot for a later node.</summary>
    private static void Distribute(Function fn, Tensor?[] inputGrads, Dictionary<Tensor, GradSlot> grads, Pass pass)
    {
        // The returned gradients are held while they are handed out, so that a gradient given to two inputs is
        // not released by the first taker.
        foreach (var g in inputGrads)
            if (g is not null && pass.Manages(g)) g.Buffer.Hold();
        for (int k = 0; k < inputGrads.Length; k++)
        {
            var input = fn.Inputs[k];
            var g = inputGrads[k];
            if (g is null || !input.RequiresGrad) continue;
            CheckGradient(input, g, fn, k);
            if (input.IsLeaf)
            {
                Accumulate(input, g, pass);
            }
            else
            {
                if (!grads.TryGetValue(input, out var s)) grads[input] = s = new GradSlot(pass);
                s.Add(g);
            }
        }
        foreach (var g in inputGrads)
            if (g is not null && pass.Manages(g)) g.Buffer.Drop();
    }

    /// <summary>g fits t (shape, dtype): g is fn's gradient for its input k, or the seed when fn is null. The message is
    /// built only when the check fails: once per input per node, it was most of a step's string allocation.</summary>
    private static void CheckGradient(Tensor t, Tensor g, Function? fn, int k)
    {
        if (!g.Shape.AsSpan().SequenceEqual(t.Shape))
            throw new InvalidOperationException($"{What(fn, k)} has shape {Tensor.ShapeString(g.Shape)}, expected {Tensor.ShapeString(t.Shape)}.");
        if (g.DType != t.DType)
            throw new InvalidOperationException($"{What(fn, k)} is {g.DType}, expected {t.DType}.");
    }

    private static string What(Function? fn, int k) => fn is null ? "the seed" : $"{fn}'s gradient for input {k}";

    // The seed of a Backward() without a gradient: a 1 per backend and dtype, made once and pinned, so that a pass
    // fills none (on a GPU a memset every step). Ops never write into their inputs, so sharing it is safe inside the
    // graph; a leaf, whose gradient a caller may change in place (an all-reduce), gets a copy (Accumulate).
    private static readonly ConditionalWeakTable<IBackend, ConcurrentDictionary<DType, Tensor>> UnitSeeds = new();

    private static Tensor UnitSeed(Tensor root) =>
        new(UnitSeeds.GetOrCreateValue(root.Backend).GetOrAdd(root.DType, dtype => Tensor.Ones([], dtype, root.Backend).Keep()).Buffer, root.Shape);

    private static bool IsUnitSeed(Tensor g) =>
        UnitSeeds.TryGetValue(g.Backend, out var seeds) && seeds.TryGetValue(g.DType, out var seed) && ReferenceEquals(seed.Buffer, g.Buffer);

    /// <summary>Adds g into a leaf's .Grad (in place once the leaf owns its gradient buffer).</summary>
    private static void Accumulate(Tensor leaf, Tensor g, Pass pass)
    {
        if (leaf.Grad is null && IsUnitSeed(g)) g = g.Clone();
        var grad = new Held { Grad = leaf.Grad, Owned = leaf.GradIsOwned, IsHeld = leaf.GradIsHeld };
        AddInto(ref grad, g, pass);
        leaf.Grad = grad.Grad;
        leaf.GradIsOwned = grad.Owned;
        leaf.GradIsHeld = grad.IsHeld;
    }

    /// <summary>
    /// grad += g. The first gradient is kept as given, and it may be shared with another tensor (Add passes its
    /// gradient through to both inputs), so the first accumulation writes grad + g to a new buffer (one add, not a
    /// copy and then an in-place add: the same sum bit for bit); later ones add in place.
    /// A gradient buffer this pass made is held by whoever keeps it and released when the last holder lets go.
    /// </summary>
    private static void AddInto(ref Held grad, Tensor g, Pass pass)
    {
        if (grad.Grad is null)
        {
            grad.Grad = g;
            grad.Owned = false;
            grad.IsHeld = pass.Manages(g);
            if (grad.IsHeld) g.Buffer.Hold();
            return;
        }
        if (!grad.Owned)
        {
            var sum = grad.Grad.EmptyLike();
            int[] shape = grad.Grad.Shape;
            sum.Backend.BinaryForward(BinaryOp.Add, sum.Buffer, shape, grad.Grad.Buffer, shape, g.Buffer, shape);
            if (grad.IsHeld) grad.Grad.Buffer.Drop();
            sum.Buffer.Hold();
            grad = new Held { Grad = sum, Owned = true, IsHeld = true };
            return;
        }
        grad.Grad.Backend.Axpby(grad.Grad.Buffer, 1.0, g.Buffer, 1.0);
    }

    /// <summary>A gradient, whether it may be written in place, and whether it carries an autograd hold.</summary>
    private struct Held
    {
        public Tensor? Grad;
        public bool Owned;
        public bool IsHeld;
    }

    /// <summary>What one backward pass may release: the gradient buffers it created itself and nobody pinned.</summary>
    private sealed class Pass(long createdBefore)
    {
        public bool Manages(Tensor g) => g.Buffer.Serial > createdBefore && !g.Buffer.Pinned && !g.Buffer.IsReleased;
    }

    private sealed class GradSlot(Pass pass)
    {
        private Held _held;

        public Tensor? Grad => _held.Grad;

        public void Add(Tensor g) => AddInto(ref _held, g, pass);

        /// <summary>The node has read this gradient: the slot's hold goes.</summary>
        public void Consumed()
        {
            if (_held.IsHeld) _held.Grad!.Buffer.Drop();
            _held = default;
        }
    }

    /// <summary>Tensors requiring grad reachable from root, each after all tensors it was computed from.</summary>
    internal static List<Tensor> TopologicalOrder(Tensor root) => TopologicalOrder(root, new Scratch());

    private static List<Tensor> TopologicalOrder(Tensor root, Scratch scratch)
    {
        var order = scratch.Order;
        var visited = scratch.Visited;
        scratch.Several.Reached = visited;
        // Iterative DFS: deep networks would overflow a recursive one.
        var stack = scratch.Stack;
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

using BlurVae.Kernels.Cpu;

namespace BlurVae.Training.Engine.Tensors;

/// <summary>
/// An N-d, contiguous, row-major array on one backend, with an optional gradient and the Function that made it.
/// Ops never modify their inputs: each writes a fresh buffer (views such as Reshape share the buffer but are
/// never written through). The only in-place writers are the optimisers (parameters) and batch-norm running
/// statistics, both outside any recorded graph.
/// </summary>
public sealed partial class Tensor
{
    public Tensor(BackendBuffer buffer, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"Negative extent in shape {ShapeString(shape)}.", nameof(shape));
        if (ShapeLength(shape) != buffer.Length)
            throw new ArgumentException($"Shape {ShapeString(shape)} holds {ShapeLength(shape)} elements but the buffer has {buffer.Length}.", nameof(shape));
        Buffer = buffer;
        Shape = (int[])shape.Clone();
    }

    /// <summary>Extents, outermost first. Do not modify.</summary>
    public int[] Shape { get; }

    public BackendBuffer Buffer { get; }

    public DType DType => Buffer.DType;

    public IBackend Backend => Buffer.Backend;

    public int Length => Buffer.Length;

    public int Rank => Shape.Length;

    /// <summary>An optional label (parameter names in checkpoints and error messages).</summary>
    public string? Name { get; set; }

    /// <summary>True for leaves whose gradient is wanted, and for every tensor computed from one while grad mode is on.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>
    /// The accumulated gradient (leaves only), or null after ZeroGrad. It belongs to this tensor: ZeroGrad returns
    /// the buffer the autograd made for it to the backend, so Clone() a gradient to keep its values past ZeroGrad.
    /// Assigning it hands the autograd nothing (an assigned gradient is the caller's).
    /// </summary>
    public Tensor? Grad
    {
        get => _grad;
        set
        {
            _grad = value;
            GradIsOwned = false;
            GradIsHeld = false;
        }
    }

    private Tensor? _grad;

    // True when Grad is a buffer only this tensor refers to, so later contributions may be added into it in place.
    internal bool GradIsOwned { get; set; }

    // True when Grad's buffer carries one autograd hold for this tensor (BackendBuffer.Hold), dropped by ZeroGrad.
    internal bool GradIsHeld { get; set; }

    // Recorded ops that read this intermediate and whose backward has not yet finished with it (see BackwardPass).
    internal int PendingUses { get; set; }

    /// <summary>The op that produced this tensor, or null for a leaf.</summary>
    public Function? Creator { get; internal set; }

    public bool IsLeaf => Creator is null;

    public int Size(int axis) => Shape[NormalizeAxis(axis)];

    public override string ToString() => $"Tensor{ShapeString(Shape)} {DType} on {Backend.Name}{(Name is null ? "" : " '" + Name + "'")}";

    public static string ShapeString(int[] shape) => "[" + string.Join(", ", shape) + "]";

    public static int ShapeLength(int[] shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return checked((int)n);
    }

    internal int NormalizeAxis(int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank) throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Axis out of range for a tensor of shape {ShapeString(Shape)}.");
        return a;
    }

    // ---- creation ----

    public static IBackend DefaultBackend { get; set; } = CpuBackend.Instance;

    public static Tensor Zeros(int[] shape, DType dtype = DType.Float32, IBackend? backend = null)
    {
        backend ??= DefaultBackend;
        return new Tensor(backend.Allocate(dtype, ShapeLength(shape)), shape);
    }

    /// <summary>A tensor of unspecified values, for an op's output that the op overwrites completely (no zero-fill).</summary>
    public static Tensor Empty(int[] shape, DType dtype = DType.Float32, IBackend? backend = null)
    {
        backend ??= DefaultBackend;
        return new Tensor(backend.AllocateUninitialized(dtype, ShapeLength(shape)), shape);
    }

    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32, IBackend? backend = null)
    {
        var t = Empty(shape, dtype, backend);
        t.Backend.Fill(t.Buffer, value);
        return t;
    }

    public static Tensor Ones(int[] shape, DType dtype = DType.Float32, IBackend? backend = null) => Full(shape, 1.0, dtype, backend);

    public static Tensor Scalar(double value, DType dtype = DType.Float32, IBackend? backend = null) => Full([], value, dtype, backend);

    public static Tensor FromArray(double[] values, int[] shape, DType dtype = DType.Float64, IBackend? backend = null)
    {
        var t = Empty(shape, dtype, backend);
        t.Backend.Upload(t.Buffer, values);
        return t;
    }

    public static Tensor FromArray(float[] values, int[] shape, DType dtype = DType.Float32, IBackend? backend = null)
    {
        var t = Empty(shape, dtype, backend);
        t.Backend.Upload(t.Buffer, values);
        return t;
    }

    /// <summary>Standard normal samples (Box–Muller on a seeded System.Random, so runs repeat exactly).</summary>
    public static Tensor Randn(int[] shape, Random rng, DType dtype = DType.Float32, IBackend? backend = null)
    {
        var values = new double[ShapeLength(shape)];
        for (int i = 0; i < values.Length; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = r * Math.Cos(2 * Math.PI * u2);
            if (i + 1 < values.Length) values[i + 1] = r * Math.Sin(2 * Math.PI * u2);
        }
        return FromArray(values, shape, dtype, backend);
    }

    /// <summary>Uniform samples in [low, high).</summary>
    public static Tensor Uniform(int[] shape, double low, double high, Random rng, DType dtype = DType.Float32, IBackend? backend = null)
    {
        var values = new double[ShapeLength(shape)];
        for (int i = 0; i < values.Length; i++) values[i] = low + (high - low) * rng.NextDouble();
        return FromArray(values, shape, dtype, backend);
    }

    public Tensor ZerosLike() => Zeros(Shape, DType, Backend);

    /// <summary>A tensor of this one's shape, dtype and backend with unspecified values (see <see cref="Empty"/>).</summary>
    public Tensor EmptyLike() => Empty(Shape, DType, Backend);

    // ---- reading back ----

    public double[] ToDoubleArray()
    {
        var values = new double[Length];
        Backend.Download(Buffer, values);
        return values;
    }

    public float[] ToFloatArray()
    {
        var values = new float[Length];
        Backend.Download(Buffer, values);
        return values;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public double Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() needs a one-element tensor, not {ShapeString(Shape)}.");
        return ToDoubleArray()[0];
    }

    // ---- autograd ----

    /// <summary>Back-propagates from this tensor; a scalar seeds with 1, otherwise pass the gradient.</summary>
    public void Backward(Tensor? gradient = null) => BackwardPass.Run(this, gradient);

    /// <summary>
    /// The same values, cut from the graph (shares the buffer). The buffer is pinned: backward never releases it,
    /// so a detached intermediate stays readable after Backward().
    /// </summary>
    public Tensor Detach()
    {
        Buffer.Pin();
        return new(Buffer, Shape) { Name = Name };
    }

    /// <summary>
    /// Keeps this tensor's values readable after Backward(): an intermediate of a graph is otherwise released as soon
    /// as backward has finished with it (see the Autograd README). Returns this tensor.
    /// </summary>
    public Tensor Keep()
    {
        Buffer.Pin();
        return this;
    }

    /// <summary>A deep copy of the values, cut from the graph.</summary>
    public Tensor Clone()
    {
        var t = EmptyLike();
        Backend.Copy(t.Buffer, Buffer);
        return t;
    }

    /// <summary>The same values in another precision (differentiable).</summary>
    public Tensor To(DType dtype) => dtype == DType ? this : CastFunction.Forward(this, dtype);

    /// <summary>
    /// Returns this tensor's buffer to the backend now, whatever holds or pins it: for code that made the tensor,
    /// is done with it, and knows that no other live tensor views the buffer (a training step's detached copies and
    /// loss values). Any later use of a tensor on the buffer throws.
    /// </summary>
    public void Release() => Buffer.Release();

    /// <summary>Clears the gradient; a gradient buffer the autograd made goes back to the backend at once.</summary>
    public void ZeroGrad()
    {
        var held = GradIsHeld ? _grad : null;
        Grad = null;
        held?.Buffer.Drop();
    }
}

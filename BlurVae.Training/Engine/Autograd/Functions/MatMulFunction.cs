
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// a[..., m, k] · b[..., k, n] with equal batch dims, or a rank-2 b shared by every batch (then the batch folds
/// into m, giving one large GEMM). Backward: ∂a = g·bᵀ, ∂b = aᵀ·g.
/// </summary>
public sealed class MatMulFunction : Function
{
    public static Tensor Forward(Tensor a, Tensor b)
    {
        if (a.Rank < 2 || b.Rank < 2) throw new ArgumentException($"MatMul needs rank ≥ 2 operands, got {Tensor.ShapeString(a.Shape)} and {Tensor.ShapeString(b.Shape)}.");
        if (a.DType != b.DType) throw new ArgumentException("MatMul of tensors with different dtypes.");
        int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1];
        if (b.Shape[^2] != k) throw new ArgumentException($"MatMul inner extents differ: {Tensor.ShapeString(a.Shape)} · {Tensor.ShapeString(b.Shape)}.");
        int batch = a.Length / Math.Max(1, m * k);
        bool shared = b.Rank == 2;
        if (!shared && (b.Rank != a.Rank || !a.Shape.AsSpan(0, a.Rank - 2).SequenceEqual(b.Shape.AsSpan(0, b.Rank - 2))))
            throw new ArgumentException($"MatMul batch extents differ: {Tensor.ShapeString(a.Shape)} · {Tensor.ShapeString(b.Shape)}.");
        var shape = (int[])a.Shape.Clone();
        shape[^1] = n;
        var y = Tensor.Empty(shape, a.DType, a.Backend);
        if (shared)
            a.Backend.Gemm(false, false, batch * m, n, k, 1.0, a.Buffer, 0, k, 0, b.Buffer, 0, n, 0, 0.0, y.Buffer, 0, n, 0);
        else
            a.Backend.Gemm(false, false, m, n, k, 1.0, a.Buffer, 0, k, (long)m * k, b.Buffer, 0, n, (long)k * n, 0.0, y.Buffer, 0, n, (long)m * n, batch);
        return new MatMulFunction().Record(y, a, b);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        Tensor a = Inputs[0], b = Inputs[1];
        int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1];
        int batch = a.Length / Math.Max(1, m * k);
        bool shared = b.Rank == 2;
        Tensor? ga = null, gb = null;
        if (NeedsGrad(0))
        {
            ga = a.EmptyLike();
            if (shared) g.Backend.Gemm(false, true, batch * m, k, n, 1.0, g.Buffer, 0, n, 0, b.Buffer, 0, n, 0, 0.0, ga.Buffer, 0, k, 0);
            else g.Backend.Gemm(false, true, m, k, n, 1.0, g.Buffer, 0, n, (long)m * n, b.Buffer, 0, n, (long)k * n, 0.0, ga.Buffer, 0, k, (long)m * k, batch);
        }
        if (NeedsGrad(1))
        {
            gb = b.EmptyLike();
            if (shared) g.Backend.Gemm(true, false, k, n, batch * m, 1.0, a.Buffer, 0, k, 0, g.Buffer, 0, n, 0, 0.0, gb.Buffer, 0, n, 0);
            else g.Backend.Gemm(true, false, k, n, m, 1.0, a.Buffer, 0, k, (long)m * k, g.Buffer, 0, n, (long)m * n, 0.0, gb.Buffer, 0, n, (long)k * n, batch);
        }
        return [ga, gb];
    }
}

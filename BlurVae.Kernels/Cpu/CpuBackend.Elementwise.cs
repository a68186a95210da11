using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// Elementwise ops: unary activations (forward and backward side by side), broadcasting binary ops, axpby.
public sealed partial class CpuBackend
{
    // Elementwise work below this many elements runs on one thread.
    private const int ElementwiseGrain = 1 << 15;

    public void UnaryForward(UnaryOp op, BackendBuffer y, BackendBuffer x, double alpha)
    {
        ShapeRules.Length(y, x.Length, nameof(y));
        if (IsF32(x)) Elementwise<float>.UnaryForward(op, Arr<float>(y), Arr<float>(x), (float)alpha);
        else Elementwise<double>.UnaryForward(op, Arr<double>(y), Arr<double>(x), alpha);
    }

    public void UnaryBackward(UnaryOp op, BackendBuffer dx, BackendBuffer dy, BackendBuffer x, BackendBuffer y, double alpha)
    {
        ShapeRules.Length(dx, dy.Length, nameof(dx));
        ShapeRules.Length(x, dy.Length, nameof(x));
        ShapeRules.Length(y, dy.Length, nameof(y));
        if (IsF32(dy)) Elementwise<float>.UnaryBackward(op, Arr<float>(dx), Arr<float>(dy), Arr<float>(x), Arr<float>(y), (float)alpha);
        else Elementwise<double>.UnaryBackward(op, Arr<double>(dx), Arr<double>(dy), Arr<double>(x), Arr<double>(y), alpha);
    }

    public void BinaryForward(BinaryOp op, BackendBuffer y, int[] yShape, BackendBuffer a, int[] aShape, BackendBuffer b, int[] bShape)
    {
        ShapeRules.Length(y, Shapes.Product(yShape), nameof(y));
        ShapeRules.Length(a, Shapes.Product(aShape), nameof(a));
        ShapeRules.Length(b, Shapes.Product(bShape), nameof(b));
        if (IsF32(y)) Elementwise<float>.Binary(op, Arr<float>(y), yShape, Arr<float>(a), aShape, Arr<float>(b), bShape);
        else Elementwise<double>.Binary(op, Arr<double>(y), yShape, Arr<double>(a), aShape, Arr<double>(b), bShape);
    }

    public void Axpby(BackendBuffer y, double alpha, BackendBuffer x, double beta)
    {
        ShapeRules.Length(y, x.Length, nameof(y));
        if (IsF32(y)) Elementwise<float>.Axpby(Arr<float>(y), (float)alpha, Arr<float>(x), (float)beta);
        else Elementwise<double>.Axpby(Arr<double>(y), alpha, Arr<double>(x), beta);
    }

    public void AxpbyGroup(IReadOnlyList<BackendBuffer> y, double alpha, IReadOnlyList<BackendBuffer> x, double beta)
    {
        if (x.Count != y.Count) throw new ArgumentException($"{y.Count} outputs but {x.Count} inputs.", nameof(x));
        ShapeRules.OwnOutputs(y, nameof(y), x, nameof(x), ReferenceEquals);
        for (int k = 0; k < y.Count; k++) Axpby(y[k], alpha, x[k], beta);
    }

    public void WeightedSumForward(BackendBuffer y, IReadOnlyList<BackendBuffer> x, IReadOnlyList<double> weights)
    {
        ShapeRules.WeightedSum(x, weights, y.Length, nameof(x));
        if (IsF32(y)) Elementwise<float>.WeightedSum(Arr<float>(y), [.. x.Select(Arr<float>)], [.. weights.Select(w => (float)w)]);
        else Elementwise<double>.WeightedSum(Arr<double>(y), [.. x.Select(Arr<double>)], [.. weights]);
    }

    public void WeightedSumBackward(IReadOnlyList<BackendBuffer> dx, IReadOnlyList<double> weights, BackendBuffer dy)
    {
        ShapeRules.WeightedSum(dx, weights, dy.Length, nameof(dx));
        ShapeRules.OwnOutputs(dx, nameof(dx), [], "", ReferenceEquals);
        for (int k = 0; k < dx.Count; k++)
        {
            if (IsF32(dy)) Elementwise<float>.Axpby(Arr<float>(dx[k]), (float)weights[k], Arr<float>(dy), 0f);
            else Elementwise<double>.Axpby(Arr<double>(dx[k]), weights[k], Arr<double>(dy), 0.0);
        }
    }

    private static class Elementwise<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        // y = w_0·x_0 + w_1·x_1 + … in term order, as weighted_sum_forward_kernel adds them.
        public static void WeightedSum(T[] yArr, T[][] xArr, T[] weights)
        {
            Parallelism.ForRange(yArr.Length, ElementwiseGrain, (s, e) =>
            {
                Span<T> y = yArr.AsSpan(s, e - s);
                TensorPrimitives.Multiply(xArr[0].AsSpan(s, e - s), weights[0], y);
                for (int k = 1; k < xArr.Length; k++) TensorPrimitives.MultiplyAdd(xArr[k].AsSpan(s, e - s), weights[k], y, y);
            });
        }

        private static readonly T Six = T.CreateTruncating(6);
        private static readonly T Two = T.CreateTruncating(2);

        public static void UnaryForward(UnaryOp op, T[] yArr, T[] xArr, T alpha)
        {
            Parallelism.ForRange(xArr.Length, ElementwiseGrain, (s, e) =>
            {
                ReadOnlySpan<T> x = xArr.AsSpan(s, e - s);
                Span<T> y = yArr.AsSpan(s, e - s);
                switch (op)
                {
                    case UnaryOp.Scale: TensorPrimitives.Multiply(x, alpha, y); break;
                    case UnaryOp.AddScalar: TensorPrimitives.Add(x, alpha, y); break;
                    case UnaryOp.Relu: TensorPrimitives.Max(x, T.Zero, y); break;
                    case UnaryOp.LeakyRelu: LeakyRelu(y, x, alpha); break;
                    case UnaryOp.Relu6:
                        TensorPrimitives.Max(x, T.Zero, y);
                        TensorPrimitives.Min(y, Six, y);
                        break;
                    case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
                    case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
                    case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
                    case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
                    case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
                    case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
                    case UnaryOp.Pow: TensorPrimitives.Pow(x, alpha, y); break;
                    default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
                }
            });
        }

        public static void UnaryBackward(UnaryOp op, T[] dxArr, T[] dyArr, T[] xArr, T[] yArr, T alpha)
        {
            Parallelism.ForRange(dyArr.Length, ElementwiseGrain, (s, e) =>
            {
                Span<T> dx = dxArr.AsSpan(s, e - s);
                ReadOnlySpan<T> dy = dyArr.AsSpan(s, e - s);
                ReadOnlySpan<T> x = xArr.AsSpan(s, e - s);
                ReadOnlySpan<T> y = yArr.AsSpan(s, e - s);
                switch (op)
                {
                    case UnaryOp.Scale: TensorPrimitives.Multiply(dy, alpha, dx); break;
                    case UnaryOp.AddScalar: dy.CopyTo(dx); break;
                    case UnaryOp.Relu: LeakyReluBackward(dx, dy, x, T.Zero); break;
                    case UnaryOp.LeakyRelu: LeakyReluBackward(dx, dy, x, alpha); break;
                    case UnaryOp.Relu6:
                        // PyTorch's hardtanh backward: the gradient passes only strictly inside (0, 6).
                        for (int i = 0; i < dx.Length; i++) dx[i] = x[i] > T.Zero && x[i] < Six ? dy[i] : T.Zero;
                        break;
                    case UnaryOp.Tanh:
                        for (int i = 0; i < dx.Length; i++) dx[i] = dy[i] * (T.One - y[i] * y[i]);
                        break;
                    case UnaryOp.Sigmoid:
                        for (int i = 0; i < dx.Length; i++) dx[i] = dy[i] * y[i] * (T.One - y[i]);
                        break;
                    case UnaryOp.Exp: TensorPrimitives.Multiply(dy, y, dx); break;
                    case UnaryOp.Log: TensorPrimitives.Divide(dy, x, dx); break;
                    case UnaryOp.Abs:
                        for (int i = 0; i < dx.Length; i++) dx[i] = x[i] > T.Zero ? dy[i] : x[i] < T.Zero ? -dy[i] : T.Zero;
                        break;
                    case UnaryOp.Square:
                        for (int i = 0; i < dx.Length; i++) dx[i] = Two * x[i] * dy[i];
                        break;
                    case UnaryOp.Pow:
                        for (int i = 0; i < dx.Length; i++) dx[i] = dy[i] * alpha * T.Pow(x[i], alpha - T.One);
                        break;
                    default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
                }
            });
        }

        private static void LeakyRelu(Span<T> y, ReadOnlySpan<T> x, T alpha)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
            {
                var va = new Vector<T>(alpha);
                for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var v = new Vector<T>(x.Slice(i));
                    Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<T>.Zero), v, v * va).CopyTo(y.Slice(i));
                }
            }
            for (; i < x.Length; i++) y[i] = x[i] > T.Zero ? x[i] : alpha * x[i];
        }

        private static void LeakyReluBackward(Span<T> dx, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, T alpha)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
            {
                var va = new Vector<T>(alpha);
                for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var g = new Vector<T>(dy.Slice(i));
                    var v = new Vector<T>(x.Slice(i));
                    Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<T>.Zero), g, g * va).CopyTo(dx.Slice(i));
                }
            }
            for (; i < x.Length; i++) dx[i] = x[i] > T.Zero ? dy[i] : alpha * dy[i];
        }

        public static void Axpby(T[] yArr, T alpha, T[] xArr, T beta)
        {
            Parallelism.ForRange(yArr.Length, ElementwiseGrain, (s, e) =>
            {
                Span<T> y = yArr.AsSpan(s, e - s);
                ReadOnlySpan<T> x = xArr.AsSpan(s, e - s);
                if (beta == T.Zero) TensorPrimitives.Multiply(x, alpha, y);
                else
                {
                    if (beta != T.One) TensorPrimitives.Multiply(y, beta, y);
                    if (alpha == T.One) TensorPrimitives.Add(y, x, y);
                    else TensorPrimitives.MultiplyAdd(x, alpha, y, y);
                }
            });
        }

        public static void Binary(BinaryOp op, T[] y, int[] yShape, T[] a, int[] aShape, T[] b, int[] bShape)
        {
            if (a.Length == y.Length && b.Length == y.Length)
            {
                Parallelism.ForRange(y.Length, ElementwiseGrain, (s, e) =>
                    Row(op, y.AsSpan(s, e - s), a.AsSpan(s, e - s), false, b.AsSpan(s, e - s), false));
                return;
            }
            var (shape, broadA, broadB) = Shapes.Coalesce(yShape, aShape, bShape);
            long[] sa = Shapes.Strides(shape, broadA), sb = Shapes.Strides(shape, broadB);
            int inner = shape[^1];
            int rows = y.Length / Math.Max(1, inner);
            bool scalarA = broadA[^1], scalarB = broadB[^1];
            Parallelism.ForRange(rows, Math.Max(1, ElementwiseGrain / Math.Max(1, inner)), (r0, r1) =>
            {
                for (int r = r0; r < r1; r++)
                {
                    int offA = (int)Shapes.RowOffset(r, shape, sa), offB = (int)Shapes.RowOffset(r, shape, sb);
                    Row(op, y.AsSpan(r * inner, inner),
                        a.AsSpan(offA, scalarA ? 1 : inner), scalarA,
                        b.AsSpan(offB, scalarB ? 1 : inner), scalarB);
                }
            });
        }

        // One output row: each operand is either a full row or a single value broadcast along it.
        private static void Row(BinaryOp op, Span<T> y, ReadOnlySpan<T> a, bool scalarA, ReadOnlySpan<T> b, bool scalarB)
        {
            if (scalarA && scalarB)
            {
                y.Fill(Apply(op, a[0], b[0]));
                return;
            }
            switch (op)
            {
                case BinaryOp.Add:
                    if (scalarA) TensorPrimitives.Add(b, a[0], y);
                    else if (scalarB) TensorPrimitives.Add(a, b[0], y);
                    else TensorPrimitives.Add(a, b, y);
                    break;
                case BinaryOp.Sub:
                    if (scalarA) TensorPrimitives.Subtract(a[0], b, y);
                    else if (scalarB) TensorPrimitives.Subtract(a, b[0], y);
                    else TensorPrimitives.Subtract(a, b, y);
                    break;
                case BinaryOp.Mul:
                    if (scalarA) TensorPrimitives.Multiply(b, a[0], y);
                    else if (scalarB) TensorPrimitives.Multiply(a, b[0], y);
                    else TensorPrimitives.Multiply(a, b, y);
                    break;
                case BinaryOp.Div:
                    if (scalarA) TensorPrimitives.Divide(a[0], b, y);
                    else if (scalarB) TensorPrimitives.Divide(a, b[0], y);
                    else TensorPrimitives.Divide(a, b, y);
                    break;
                default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
            }
        }

        private static T Apply(BinaryOp op, T a, T b) => op switch
        {
            BinaryOp.Add => a + b,
            BinaryOp.Sub => a - b,
            BinaryOp.Mul => a * b,
            BinaryOp.Div => a / b,
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
        };
    }
}

using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// Row-wise softmax over the last axis; the backward reads the saved output.
public sealed partial class CpuBackend
{
    public void SoftmaxForward(BackendBuffer y, BackendBuffer x, int rows, int cols)
    {
        ShapeRules.Length(x, (long)rows * cols, nameof(x));
        ShapeRules.Length(y, (long)rows * cols, nameof(y));
        if (IsF32(x)) Softmax<float>.Forward(Arr<float>(y), Arr<float>(x), rows, cols);
        else Softmax<double>.Forward(Arr<double>(y), Arr<double>(x), rows, cols);
    }

    public void SoftmaxBackward(BackendBuffer dx, BackendBuffer dy, BackendBuffer y, int rows, int cols)
    {
        ShapeRules.Length(dy, (long)rows * cols, nameof(dy));
        ShapeRules.Length(dx, (long)rows * cols, nameof(dx));
        if (IsF32(y)) Softmax<float>.Backward(Arr<float>(dx), Arr<float>(dy), Arr<float>(y), rows, cols);
        else Softmax<double>.Backward(Arr<double>(dx), Arr<double>(dy), Arr<double>(y), rows, cols);
    }

    private static class Softmax<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static void Forward(T[] y, T[] x, int rows, int cols)
        {
            Parallelism.ForRange(rows, Math.Max(1, ElementwiseGrain / Math.Max(1, cols)), (r0, r1) =>
            {
                for (int r = r0; r < r1; r++)
                {
                    var xr = x.AsSpan(r * cols, cols);
                    var yr = y.AsSpan(r * cols, cols);
                    // Subtracting the row maximum keeps exp from overflowing.
                    T max = TensorPrimitives.Max<T>(xr);
                    TensorPrimitives.Subtract(xr, max, yr);
                    TensorPrimitives.Exp<T>(yr, yr);
                    T sum = TensorPrimitives.Sum<T>(yr);
                    TensorPrimitives.Divide(yr, sum, yr);
                }
            });
        }

        // dx = y ⊙ (dy − ⟨dy, y⟩)
        public static void Backward(T[] dx, T[] dy, T[] y, int rows, int cols)
        {
            Parallelism.ForRange(rows, Math.Max(1, ElementwiseGrain / Math.Max(1, cols)), (r0, r1) =>
            {
                for (int r = r0; r < r1; r++)
                {
                    var yr = y.AsSpan(r * cols, cols);
                    var gr = dy.AsSpan(r * cols, cols);
                    var dr = dx.AsSpan(r * cols, cols);
                    T dot = TensorPrimitives.Dot<T>(gr, yr);
                    TensorPrimitives.Subtract(gr, dot, dr);
                    TensorPrimitives.Multiply(dr, yr, dr);
                }
            });
        }
    }
}

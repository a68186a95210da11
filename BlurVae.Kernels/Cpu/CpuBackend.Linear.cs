using System.Numerics.Tensors;

namespace BlurVae.Kernels.Cpu;

// A Linear layer's bias and activation around its GEMMs (kernels/linear.cuh): forward y = act(y + bias) in place,
// backward the activation's gradient from the output and the bias gradient (the column sum) in one pass.
public sealed partial class CpuBackend
{
    public void BiasActivationForward(BackendBuffer y, BackendBuffer? bias, int rows, int cols, UnaryOp? activation, double alpha)
    {
        CheckBiasActivation(rows, cols, activation, alpha, bias, (y, nameof(y)));
        if (IsF32(y)) Linear<float>.Forward(Arr<float>(y), bias is null ? null : Arr<float>(bias), cols, activation, (float)alpha);
        else Linear<double>.Forward(Arr<double>(y), bias is null ? null : Arr<double>(bias), cols, activation, alpha);
    }

    public void BiasActivationBackward(BackendBuffer dPre, BackendBuffer? dBias, BackendBuffer dy, BackendBuffer y, int rows, int cols, UnaryOp? activation, double alpha)
    {
        CheckBiasActivation(rows, cols, activation, alpha, dBias, (dPre, nameof(dPre)), (dy, nameof(dy)), (y, nameof(y)));
        if (IsF32(dy)) Linear<float>.Backward(Arr<float>(dPre), dBias is null ? null : Arr<float>(dBias), Arr<float>(dy), Arr<float>(y), cols, activation, (float)alpha);
        else Linear<double>.Backward(Arr<double>(dPre), dBias is null ? null : Arr<double>(dBias), Arr<double>(dy), Arr<double>(y), cols, activation, alpha);
    }

    private static void CheckBiasActivation(int rows, int cols, UnaryOp? activation, double alpha, BackendBuffer? bias, params ReadOnlySpan<(BackendBuffer Buffer, string Name)> matrices)
    {
        ShapeRules.LinearActivation(activation, alpha);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        foreach (var (buffer, name) in matrices) ShapeRules.Length(buffer, (long)rows * cols, name);
        if (bias is not null) ShapeRules.Length(bias, cols, nameof(bias));
    }

    private static class Linear<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static void Forward(T[] y, T[]? bias, int cols, UnaryOp? activation, T alpha)
        {
            if (bias is not null)
                for (int r = 0; r < y.Length; r += cols) TensorPrimitives.Add(y.AsSpan(r, cols), bias, y.AsSpan(r, cols));
            if (activation is { } op) Elementwise<T>.UnaryForward(op, y, y, alpha);
        }

        // Relu, LeakyRelu and Relu6 backward read the branch from their input; the output has the same sign and the
        // same (0, 6) membership (alpha ≥ 0), so the unary backward runs on y in x's place.
        public static void Backward(T[] dPre, T[]? dBias, T[] dy, T[] y, int cols, UnaryOp? activation, T alpha)
        {
            if (activation is { } op) Elementwise<T>.UnaryBackward(op, dPre, dy, y, y, alpha);
            else dy.CopyTo(dPre, 0);
            if (dBias is not null) Reduce<T>.SumTo(dBias, [1, cols], dPre, [dPre.Length / cols, cols]);
        }
    }
}

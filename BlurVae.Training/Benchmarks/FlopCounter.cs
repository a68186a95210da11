
namespace BlurVae.Training.Benchmarks;

/// <summary>
/// Counts the FLOPs of a loss and its backward pass by walking the autograd graph that produced it, so the count
/// follows the model's actual layers and shapes instead of a per-configuration formula (conventions: <see cref="FlopCount"/>).
/// Forward: every recorded matrix op and FFT once. Backward: for each input of an op that the real backward pass
/// differentiates (a parameter that requires a gradient, or a tensor computed from one), the op's adjoint
/// (for a product y = a·b: ∂a costs as much as the forward, ∂b too), so the first convolution, whose input is the
/// data, costs 1× forward + 1× for its weight gradient, and a hidden layer 1× + 2×.
/// </summary>
public static class FlopCounter
{
    /// <summary>
    /// Counts the graph behind <paramref name="root"/>. <paramref name="dataLeaves"/> are leaves that were marked
    /// RequiresGrad only so that the ops reading them get recorded (the data x, whose FFT the kernel-fit loss computes):
    /// their forward ops are counted, their gradients are not.
    /// </summary>
    public static (FlopCount Forward, FlopCount Backward) Count(Tensor root, IReadOnlyCollection<Tensor>? dataLeaves = null)
    {
        var data = new HashSet<Tensor>(dataLeaves ?? [], ReferenceEqualityComparer.Instance);
        var needs = new Dictionary<Tensor, bool>(ReferenceEqualityComparer.Instance);
        var visited = new HashSet<Function>(ReferenceEqualityComparer.Instance);
        FlopCount forward = default, backward = default;

        // Iterative depth-first walk: deep graphs must not overflow the stack. Post-order so that whether an input
        // needs a gradient is known before its consumer is counted.
        var stack = new Stack<(Tensor Tensor, bool Expanded)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (t, expanded) = stack.Pop();
            if (needs.ContainsKey(t)) continue;
            var fn = t.Creator;
            if (fn is null)
            {
                needs[t] = t.RequiresGrad && !data.Contains(t);
                continue;
            }
            if (!expanded)
            {
                stack.Push((t, true));
                foreach (var input in fn.Inputs)
                    if (!needs.ContainsKey(input)) stack.Push((input, false));
                continue;
            }
            bool any = false;
            var inputNeeds = new bool[fn.Inputs.Length];
            for (int i = 0; i < fn.Inputs.Length; i++) any |= inputNeeds[i] = needs[fn.Inputs[i]];
            needs[t] = any;
            if (!visited.Add(fn)) continue;
            var (f, b) = OpFlops(fn, t, inputNeeds);
            forward += f;
            backward += b;
        }
        return (forward, backward);
    }

    /// <summary>Forward cost of one op and the cost of the input gradients the backward pass computes.</summary>
    private static (FlopCount Forward, FlopCount Backward) OpFlops(Function fn, Tensor output, bool[] inputNeeds)
    {
        double macs;
        switch (fn)
        {
            case LinearFunction:
            {
                var w = fn.Inputs[1];                              // [out, in]
                macs = (double)output.Length * w.Shape[1];
                return Matrix(macs, inputNeeds, first: 2);
            }
            case MatMulFunction:
            {
                var a = fn.Inputs[0];                              // [..., m, k] · [..., k, n]
                macs = (double)output.Length * a.Shape[^1];
                return Matrix(macs, inputNeeds, first: 2);
            }
            case Conv2dFunction:
            {
                var w = fn.Inputs[1];                              // [Cout, Cin, kh, kw]; every output value is Cin·kh·kw MACs
                macs = (double)output.Length * (w.Length / w.Shape[0]);
                return Matrix(macs, inputNeeds, first: 2);
            }
            case ConvTranspose2dFunction:
            {
                var x = fn.Inputs[0];                              // [N, Cin, H, W]; w [Cin, Cout, kh, kw]: every input value scatters Cout·kh·kw MACs
                var w = fn.Inputs[1];
                macs = (double)x.Length * (w.Length / w.Shape[0]);
                return Matrix(macs, inputNeeds, first: 2);
            }
            case Rfft2Function:
            {
                double f = RealFft(fn.Inputs[0].Shape);
                return (new FlopCount(0, f), new FlopCount(0, inputNeeds[0] ? f : 0));
            }
            case Irfft2Function:
            {
                double f = RealFft(output.Shape);
                return (new FlopCount(0, f), new FlopCount(0, inputNeeds[0] ? f : 0));
            }
            default:
                return (default, default);
        }
    }

    /// <summary>2 FLOPs per MAC forward; the same again for each of the first <paramref name="first"/> inputs (the two operands; a bias is elementwise) that needs a gradient.</summary>
    private static (FlopCount, FlopCount) Matrix(double macs, bool[] inputNeeds, int first)
    {
        int grads = 0;
        for (int i = 0; i < Math.Min(first, inputNeeds.Length); i++)
            if (inputNeeds[i]) grads++;
        return (new FlopCount(2 * macs, 0), new FlopCount(2 * macs * grads, 0));
    }

    /// <summary>2.5·n·log2 n per real H×W transform (n = H·W), times the batch of leading axes.</summary>
    public static double RealFft(int[] realShape)
    {
        int h = realShape[^2], w = realShape[^1];
        double batch = 1;
        for (int i = 0; i < realShape.Length - 2; i++) batch *= realShape[i];
        double n = (double)h * w;
        return n <= 1 ? 0 : batch * 2.5 * n * Math.Log2(n);
    }
}

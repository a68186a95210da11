using System.Buffers;

namespace BlurVae.Kernels.Cpu;

// Fused optimiser updates, following PyTorch's arithmetic order so that results match it closely.
public sealed partial class CpuBackend
{
    public void AdamStep(BackendBuffer param, BackendBuffer grad, BackendBuffer m, BackendBuffer v, AdamStepParameters p)
    {
        CheckAdamOperands(param, grad, m, v);
        CheckAdamStep(p);
        if (IsF32(param)) Optim<float>.Adam(Arr<float>(param), Arr<float>(grad), Arr<float>(m), Arr<float>(v), p);
        else Optim<double>.Adam(Arr<double>(param), Arr<double>(grad), Arr<double>(m), Arr<double>(v), p);
    }

    // The group as one parallel loop over all its elements (one fork-join per step instead of one per tensor, and the
    // small tensors no longer run alone on one thread); each element's update is AdamStep's, so bit-identical to it.
    public void AdamStepGroup(IReadOnlyList<BackendBuffer> param, IReadOnlyList<BackendBuffer> grad, IReadOnlyList<BackendBuffer> m, IReadOnlyList<BackendBuffer> v, AdamStepParameters p)
    {
        CheckGroup(param, grad, m, v);
        CheckAdamStep(p);
        bool f32 = IsF32(param[0]);
        for (int i = 0; i < param.Count; i++)
        {
            CheckAdamOperands(param[i], grad[i], m[i], v[i]);
            if (IsF32(param[i]) != f32)
                throw new ArgumentException($"An Adam group needs one dtype: param[{i}] is {param[i].DType}, param[0] {param[0].DType}.", nameof(param));
        }
        if (f32) Optim<float>.AdamGroup(param, grad, m, v, p);
        else Optim<double>.AdamGroup(param, grad, m, v, p);
    }

    // One tensor's operands (the gradient and both moments as long as the parameter) and the step count: the rules of
    // AdamStep and of every tensor of AdamStepGroup.
    private static void CheckAdamOperands(BackendBuffer param, BackendBuffer grad, BackendBuffer m, BackendBuffer v)
    {
        ShapeRules.Length(grad, param.Length, nameof(grad));
        ShapeRules.Length(m, param.Length, nameof(m));
        ShapeRules.Length(v, param.Length, nameof(v));
    }

    private static void CheckAdamStep(AdamStepParameters p)
    {
        if (p.Step < 1) throw new ArgumentOutOfRangeException(nameof(p), p.Step, "Adam step counts from 1.");
    }

    /// <summary>Four lists of one length; shared with DeviceBackend.</summary>
    internal static void CheckGroup(IReadOnlyList<BackendBuffer> param, IReadOnlyList<BackendBuffer> grad, IReadOnlyList<BackendBuffer> m, IReadOnlyList<BackendBuffer> v)
    {
        ArgumentNullException.ThrowIfNull(param);
        if (param.Count == 0) throw new ArgumentException("An Adam group needs at least one tensor.", nameof(param));
        if (grad.Count != param.Count || m.Count != param.Count || v.Count != param.Count)
            throw new ArgumentException($"An Adam group needs as many gradients ({grad.Count}) and moments ({m.Count}, {v.Count}) as parameters ({param.Count}).", nameof(grad));
    }

    public void SgdStep(BackendBuffer param, BackendBuffer grad, BackendBuffer? momentumBuffer, double learningRate, double momentum, double dampening, double weightDecay, bool firstStep)
    {
        ShapeRules.Length(grad, param.Length, nameof(grad));
        if (momentumBuffer is not null) ShapeRules.Length(momentumBuffer, param.Length, nameof(momentumBuffer));
        if (IsF32(param)) Optim<float>.Sgd(Arr<float>(param), Arr<float>(grad), ArrOrNull<float>(momentumBuffer), learningRate, momentum, dampening, weightDecay, firstStep);
        else Optim<double>.Sgd(Arr<double>(param), Arr<double>(grad), ArrOrNull<double>(momentumBuffer), learningRate, momentum, dampening, weightDecay, firstStep);
    }

    private static class Optim<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        // torch.optim.Adam (amsgrad off): g += wd·p; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
        // p −= (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + eps)
        public static void Adam(T[] param, T[] grad, T[] m, T[] v, AdamStepParameters p)
        {
            var k = new AdamConstants(p);
            Parallelism.ForRange(param.Length, ElementwiseGrain, (s, e) => AdamRange(param, grad, m, v, s, e, k));
        }

        // The tensors laid end to end: a chunk of the concatenated range updates the pieces of the tensors it covers.
        public static void AdamGroup(IReadOnlyList<BackendBuffer> param, IReadOnlyList<BackendBuffer> grad, IReadOnlyList<BackendBuffer> m, IReadOnlyList<BackendBuffer> v, AdamStepParameters p)
        {
            var k = new AdamConstants(p);
            int count = param.Count;
            long[] starts = ArrayPool<long>.Shared.Rent(count + 1);
            starts[0] = 0;
            for (int i = 0; i < count; i++) starts[i + 1] = starts[i] + param[i].Length;
            long total = starts[count];
            if (total > int.MaxValue)
            {
                for (int i = 0; i < count; i++) Adam(Arr<T>(param[i]), Arr<T>(grad[i]), Arr<T>(m[i]), Arr<T>(v[i]), p);
            }
            else
            {
                Parallelism.ForRange((int)total, ElementwiseGrain, (s, e) =>
                {
                    int i = Array.BinarySearch(starts, 0, count + 1, (long)s);
                    if (i < 0) i = ~i - 1;
                    for (; i < count && starts[i] < e; i++)
                    {
                        int from = (int)(Math.Max(s, starts[i]) - starts[i]), to = (int)(Math.Min(e, starts[i + 1]) - starts[i]);
                        if (from < to) AdamRange(Arr<T>(param[i]), Arr<T>(grad[i]), Arr<T>(m[i]), Arr<T>(v[i]), from, to, k);
                    }
                });
            }
            ArrayPool<long>.Shared.Return(starts);
        }

        private readonly struct AdamConstants(AdamStepParameters p)
        {
            public readonly T B1 = T.CreateTruncating(p.Beta1), B2 = T.CreateTruncating(p.Beta2);
            public readonly T Wd = T.CreateTruncating(p.WeightDecay), Eps = T.CreateTruncating(p.Epsilon);
            public readonly T StepSize = T.CreateTruncating(p.LearningRate / (1 - Math.Pow(p.Beta1, p.Step)));
            public readonly T SqrtBc2 = T.CreateTruncating(Math.Sqrt(1 - Math.Pow(p.Beta2, p.Step)));
        }

        // Elements s … e−1 of one tensor.
        private static void AdamRange(T[] param, T[] grad, T[] m, T[] v, int s, int e, in AdamConstants k)
        {
            T b1 = k.B1, b2 = k.B2, wd = k.Wd, eps = k.Eps, stepSize = k.StepSize, sqrtBc2 = k.SqrtBc2;
            int i = s;
            if (wd == T.Zero)
            {
                // The same operations in the same order, Vector<T> lanes at a time: bit-identical to the scalar loop.
                var vb1 = new Vector<T>(b1);
                var vb2 = new Vector<T>(b2);
                var vc1 = new Vector<T>(T.One - b1);
                var vc2 = new Vector<T>(T.One - b2);
                var vbc = new Vector<T>(sqrtBc2);
                var veps = new Vector<T>(eps);
                var vstep = new Vector<T>(stepSize);
                for (; i + Vector<T>.Count <= e; i += Vector<T>.Count)
                {
                    var g = new Vector<T>(grad, i);
                    var mi = new Vector<T>(m, i) * vb1 + vc1 * g;
                    var vi = new Vector<T>(v, i) * vb2 + vc2 * g * g;
                    mi.CopyTo(m, i);
                    vi.CopyTo(v, i);
                    var denom = Vector.SquareRoot(vi) / vbc + veps;
                    (new Vector<T>(param, i) - vstep * (mi / denom)).CopyTo(param, i);
                }
            }
            for (; i < e; i++)
            {
                T g = grad[i];
                if (wd != T.Zero) g += wd * param[i];
                m[i] = m[i] * b1 + (T.One - b1) * g;
                v[i] = v[i] * b2 + (T.One - b2) * g * g;
                T denom = T.Sqrt(v[i]) / sqrtBc2 + eps;
                param[i] -= stepSize * (m[i] / denom);
            }
        }

        public static void Sgd(T[] param, T[] grad, T[]? buf, double lr, double momentum, double dampening, double weightDecay, bool firstStep)
        {
            T tlr = T.CreateTruncating(lr), mom = T.CreateTruncating(momentum), damp = T.CreateTruncating(dampening), wd = T.CreateTruncating(weightDecay);
            Parallelism.ForRange(param.Length, ElementwiseGrain, (s, e) =>
            {
                for (int i = s; i < e; i++)
                {
                    T d = grad[i];
                    if (wd != T.Zero) d += wd * param[i];
                    if (buf is not null && mom != T.Zero)
                    {
                        buf[i] = firstStep ? d : mom * buf[i] + (T.One - damp) * d;
                        d = buf[i];
                    }
                    param[i] -= tlr * d;
                }
            });
        }
    }
}

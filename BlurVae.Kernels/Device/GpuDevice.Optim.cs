using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/optim.cuh: one thread per parameter.
public abstract partial class GpuDevice
{
    /// <summary>One Adam step in place on param, m and v (PyTorch semantics, as CpuBackend.AdamStep).</summary>
    public void AdamUpdate(DeviceMemory param, DeviceMemory m, DeviceMemory v, DeviceMemory grad, int n, AdamStepParameters p, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (p.Step < 1) throw new ArgumentOutOfRangeException(nameof(p), p.Step, "Adam step counts from 1.");
        CheckBlockSize(blockSize);
        CheckBuffer(param, n, nameof(param));
        CheckBuffer(m, n, nameof(m));
        CheckBuffer(v, n, nameof(v));
        CheckBuffer(grad, n, nameof(grad));
        if (n == 0) return;
        // The bias corrections in double on the host, rounded once, as the CPU backend does.
        float stepSize = (float)(p.LearningRate / (1 - Math.Pow(p.Beta1, p.Step)));
        float sqrtBc2 = (float)Math.Sqrt(1 - Math.Pow(p.Beta2, p.Step));
        Launch("adam_update_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize),
               param, m, v, grad, n, (float)p.Beta1, (float)p.Beta2, (float)p.Epsilon, (float)p.WeightDecay, stepSize, sqrtBc2);
    }

    /// <summary>Blocks of one adam_multi_tensor_kernel launch at most: one full wave of an H100 (132 SMs × 2048 threads / 256); the
    /// threads loop over the rest, so the per-block work (the corrections, the ticket) stays small.</summary>
    private const int AdamMaxBlocks = 1056;

    /// <summary>
    /// The group step of adam_multi_tensor_kernel: every element of the tensors, whose addresses and offsets travel in
    /// the launch's parameters (<see cref="TensorList.Adam"/>, at most 48 tensors a launch), with the bias corrections of
    /// step state[0] + 1, and the last launch advances state[0] on the device: ⌈tensors / 48⌉ launches, no upload.
    /// </summary>
    public void AdamMultiTensor(DeviceMemory state, IReadOnlyList<DeviceMemory> param, IReadOnlyList<DeviceMemory> grad,
                                IReadOnlyList<DeviceMemory> m, IReadOnlyList<DeviceMemory> v, AdamStepParameters p, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(param.Count, 1);
        if (grad.Count != param.Count || m.Count != param.Count || v.Count != param.Count)
            throw new ArgumentException($"{param.Count} parameters but {grad.Count} gradients, {m.Count} and {v.Count} moments.", nameof(grad));
        CheckBlockSize(blockSize);
        CheckBuffer(state, 1, nameof(state));
        for (int i = 0; i < param.Count; i++)
        {
            int n = param[i].Length;
            CheckBuffer(param[i], n, $"param[{i}]");
            CheckBuffer(grad[i], n, $"grad[{i}]");
            CheckBuffer(m[i], n, $"m[{i}]");
            CheckBuffer(v[i], n, $"v[{i}]");
        }
        var layout = TensorList.Adam;
        Span<byte> list = stackalloc byte[layout.Bytes];
        for (int start = 0; start < param.Count; start += layout.Capacity)
        {
            int total = layout.Write(list, start, Math.Min(layout.Capacity, param.Count - start), null, param, grad, m, v);
            bool last = start + layout.Capacity >= param.Count;
            // An empty list still launches when it is the last: it advances the count.
            if (total == 0 && !last) continue;
            var grid = new Dim3((uint)Math.Clamp((total + blockSize - 1) / blockSize, 1, AdamMaxBlocks));
            LaunchWithStruct("adam_multi_tensor_kernel", grid, new Dim3((uint)blockSize), list, state, TicketCounters(1), last ? 1 : 0,
                             p.LearningRate, p.Beta1, p.Beta2, (float)p.Beta1, (float)p.Beta2, (float)p.Epsilon, (float)p.WeightDecay);
        }
    }
}

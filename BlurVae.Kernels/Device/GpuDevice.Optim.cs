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

    /// <summary>
    /// The group step of adam_step_count_kernel and adam_multi_tensor_kernel: state[0] += 1 on the device, the bias
    /// corrections from it, then every element of the <paramref name="tensors"/> tensors the pointer table lists
    /// (<see cref="AdamGroupTable"/>), <paramref name="total"/> elements in all. Two launches however many tensors.
    /// </summary>
    public void AdamMultiTensor(DeviceMemory table, DeviceMemory state, int tensors, int total, AdamStepParameters p, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tensors, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        CheckBlockSize(blockSize);
        // 4 addresses per tensor and tensors + 1 offsets, 64-bit each: two floats per entry.
        CheckBuffer(table, 2L * (5L * tensors + 1), nameof(table));
        CheckBuffer(state, 3, nameof(state));
        Launch("adam_step_count_kernel", new Dim3(1), new Dim3(1), state, p.LearningRate, p.Beta1, p.Beta2);
        if (total == 0) return;
        Launch("adam_multi_tensor_kernel", GridFor(total, blockSize), new Dim3((uint)blockSize),
               table, state, tensors, total, (float)p.Beta1, (float)p.Beta2, (float)p.Epsilon, (float)p.WeightDecay);
    }
}

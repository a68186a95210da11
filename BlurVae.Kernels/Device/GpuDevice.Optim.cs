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
}

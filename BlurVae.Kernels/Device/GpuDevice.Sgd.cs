using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launcher of sgd_update_kernel (kernels/optim.cuh): one thread per parameter.
public abstract partial class GpuDevice
{
    /// <summary>
    /// One PyTorch SGD step in place on param (and momentumBuffer when given), as CpuBackend.SgdStep; the
    /// hyper-parameters are rounded to float as there.
    /// </summary>
    public void SgdUpdate(DeviceMemory param, DeviceMemory? momentumBuffer, DeviceMemory grad, int n,
                          double learningRate, double momentum, double dampening, double weightDecay, bool firstStep, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        CheckBlockSize(blockSize);
        CheckBuffer(param, n, nameof(param));
        if (momentumBuffer is not null) CheckBuffer(momentumBuffer, n, nameof(momentumBuffer));
        CheckBuffer(grad, n, nameof(grad));
        if (n == 0) return;
        Launch("sgd_update_kernel", GridFor(n, blockSize), new Dim3((uint)blockSize), param, LaunchArg.PointerOrNull(momentumBuffer), grad, n,
               (float)learningRate, (float)momentum, (float)dampening, (float)weightDecay, firstStep ? 1 : 0);
    }
}

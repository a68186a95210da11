using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/vae.cuh.
public abstract partial class GpuDevice
{
    /// <summary>z = mu + exp(½ logvar)·eps over <paramref name="count"/> elements; one thread per element.</summary>
    public void ReparameterizeForward(DeviceMemory z, DeviceMemory mu, DeviceMemory logVar, DeviceMemory eps, int count, int blockSize = 256)
    {
        if (!CheckElementwise(count, blockSize, (z, nameof(z)), (mu, nameof(mu)), (logVar, nameof(logVar)), (eps, nameof(eps)))) return;
        Launch("reparameterize_forward_kernel", GridFor(count, blockSize), new Dim3((uint)blockSize), z, mu, logVar, eps, count);
    }

    /// <summary>dmu = dz, dlogvar = dz·eps·½exp(½ logvar); both overwritten.</summary>
    public void ReparameterizeBackward(DeviceMemory dMu, DeviceMemory dLogVar, DeviceMemory dz, DeviceMemory logVar, DeviceMemory eps,
                                       int count, int blockSize = 256)
    {
        if (!CheckElementwise(count, blockSize, (dMu, nameof(dMu)), (dLogVar, nameof(dLogVar)), (dz, nameof(dz)), (logVar, nameof(logVar)), (eps, nameof(eps)))) return;
        Launch("reparameterize_backward_kernel", GridFor(count, blockSize), new Dim3((uint)blockSize), dMu, dLogVar, dz, logVar, eps, count);
    }

    /// <summary>
    /// The latent from the statistics stats [n, 2·latent] (μ then log σ² per row): z = μ + exp(½ log σ²)·eps, perSample[i]
    /// the KL of sample i and kl[0] = scale·Σ_i perSample[i]; one block of <paramref name="blockSize"/> (a multiple of 32)
    /// per sample, the last block to finish summing the samples (a ticket, <see cref="TicketCounters"/>).
    /// </summary>
    public void LatentForward(DeviceMemory z, DeviceMemory kl, DeviceMemory perSample, DeviceMemory stats, DeviceMemory eps,
                              int n, int latent, float scale, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latent, 1);
        CheckBatchLoss(kl, perSample, n, blockSize);
        int count = checked(n * latent);
        CheckBuffer(z, count, nameof(z));
        CheckBuffer(stats, checked(2 * count), nameof(stats));
        CheckBuffer(eps, count, nameof(eps));
        Launch("latent_forward_kernel", new Dim3((uint)n), new Dim3((uint)blockSize), z, kl, perSample, TicketCounters(1), stats, eps, n, latent, scale);
    }

    /// <summary>
    /// dstats [n, 2·latent] from dz [n, latent] and dkl[0] (g = dkl[0]·scale): dμ = dz + g·μ, d log σ² =
    /// dz·eps·½exp(½ log σ²) + g·½(exp(log σ²) − 1), a null gradient dropping its term; every element written. One thread
    /// per latent element.
    /// </summary>
    public void LatentBackward(DeviceMemory dStats, DeviceMemory? dz, DeviceMemory? dKl, DeviceMemory stats, DeviceMemory eps,
                               int n, int latent, float scale, int blockSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(latent, 1);
        CheckBlockSize(blockSize);
        int count = checked(n * latent);
        CheckBuffer(dStats, checked(2 * count), nameof(dStats));
        if (dz is not null) CheckBuffer(dz, count, nameof(dz));
        if (dKl is not null) CheckBuffer(dKl, 1, nameof(dKl));
        CheckBuffer(stats, 2L * count, nameof(stats));
        CheckBuffer(eps, count, nameof(eps));
        if (count == 0) return;
        Launch("latent_backward_kernel", GridFor(count, blockSize), new Dim3((uint)blockSize), dStats, LaunchArg.PointerOrNull(dz), LaunchArg.PointerOrNull(dKl),
            stats, eps, n, latent, scale);
    }
}

// kernels/vae.cuh — the VAE's latent: the reparameterisation z = μ + σ·ε alone (evaluation's sampling) and fused with
// the KL term on the encoder's packed statistics (the training step), forward and backward.
// Launch geometry: BlurVae.Kernels/Device/GpuDevice.Vae.cs.
#pragma once

// z = mu + exp(½ logvar)·eps (VaeModel.Reparameterize), over the first `count` elements; one thread per element.
extern "C" __global__ void reparameterize_forward_kernel(float* __restrict__ z, const float* __restrict__ mu, const float* __restrict__ logvar,
                                                         const float* __restrict__ eps, int count) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    z[i] = mu[i] + expf(0.5f * logvar[i]) * eps[i];
}

// dmu = dz;  dlogvar = dz·eps·½exp(½ logvar). Both outputs are overwritten (training uses latent_backward_kernel).
extern "C" __global__ void reparameterize_backward_kernel(float* __restrict__ dmu, float* __restrict__ dlogvar, const float* __restrict__ dz,
                                                          const float* __restrict__ logvar, const float* __restrict__ eps, int count) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    const float g = dz[i];
    dmu[i] = g;
    dlogvar[i] = g * eps[i] * 0.5f * expf(0.5f * logvar[i]);
}

// The latent in one launch each way (LatentFunction, the training step's path): from the encoder's statistics
// stats [n, 2·latent] (row i = μ_i then log σ²_i), z[i, j] = μ + exp(½ log σ²)·eps[i, j], per_sample[i] =
// −½ Σ_j (1 + log σ² − μ² − exp(log σ²)), the KL of sample i, and kl[0] = scale · Σ_i per_sample[i]. One block per sample (grid = n, blockDim.x a
// multiple of 32), the last block to finish summing the samples (finish_batch_loss on the ticket `counter`); deterministic.
extern "C" __global__ void __launch_bounds__(1024) latent_forward_kernel(float* __restrict__ z, float* __restrict__ kl, float* __restrict__ per_sample,
                                                                         unsigned* __restrict__ counter, const float* __restrict__ stats,
                                                                         const float* __restrict__ eps, int n, int latent, float scale) {
    __shared__ float scratch[32];
    const int i = blockIdx.x;
    const float* m = stats + 2LL * i * latent;
    const float* lv = m + latent;
    const long long row = (long long)i * latent;
    float s = 0.0f;
    for (int j = threadIdx.x; j < latent; j += blockDim.x) {
        const float mu = m[j], logvar = lv[j];
        z[row + j] = mu + expf(0.5f * logvar) * eps[row + j];
        s += 1.0f + logvar - mu * mu - expf(logvar);
    }
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) per_sample[i] = -0.5f * s;
    finish_batch_loss(kl, per_sample, counter, n, scale, scratch);
}

// Its gradient, the whole dstats [n, 2·latent] in one pass from dz [n, latent] and dkl[0], with g = dkl[0]·scale:
// dμ = dz + g·μ;  d log σ² = dz·eps·½exp(½ log σ²) + g·½(exp(log σ²) − 1). A null dz or dkl (no gradient reached that
// output) drops its term. One thread per (i, j) of [n, latent], writing both halves; every element written once.
extern "C" __global__ void __launch_bounds__(1024) latent_backward_kernel(float* __restrict__ dstats, const float* __restrict__ dz, const float* __restrict__ dkl,
                                                                          const float* __restrict__ stats, const float* __restrict__ eps,
                                                                          int n, int latent, float scale) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * latent) return;
    const long long i = idx / latent, j = idx - i * latent;
    const long long at = 2 * i * latent + j;
    const float mu = stats[at], logvar = stats[at + latent];
    float dmu = 0.0f, dlogvar = 0.0f;
    if (dz != nullptr) {
        const float g = dz[idx];
        dmu = g;
        dlogvar = g * eps[idx] * 0.5f * expf(0.5f * logvar);
    }
    if (dkl != nullptr) {
        const float g = dkl[0] * scale;
        dmu += g * mu;
        dlogvar += g * 0.5f * (expf(logvar) - 1.0f);
    }
    dstats[at] = dmu;
    dstats[at + latent] = dlogvar;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(reparameterize_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(reparameterize_backward_kernel)
BLURVAE_HOST_KERNEL(latent_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(latent_backward_kernel)
#endif

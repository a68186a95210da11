// kernels/vae.cuh — the VAE's latent pieces: the reparameterisation z = μ + σ·ε and the KL term, forward and backward.
// Launch geometry: BlurVae.Kernels/Device/GpuDevice.Vae.cs.
#pragma once

// z = mu + exp(½ logvar)·eps (VaeModel.Reparameterize), over the first `count` elements; one thread per element.
extern "C" __global__ void reparameterize_forward_kernel(float* __restrict__ z, const float* __restrict__ mu, const float* __restrict__ logvar,
                                                         const float* __restrict__ eps, int count) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    z[i] = mu[i] + expf(0.5f * logvar[i]) * eps[i];
}

// dmu = dz;  dlogvar = dz·eps·½exp(½ logvar). Both outputs are overwritten (the KL gradient is a separate kernel).
extern "C" __global__ void reparameterize_backward_kernel(float* __restrict__ dmu, float* __restrict__ dlogvar, const float* __restrict__ dz,
                                                          const float* __restrict__ logvar, const float* __restrict__ eps, int count) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    const float g = dz[i];
    dmu[i] = g;
    dlogvar[i] = g * eps[i] * 0.5f * expf(0.5f * logvar[i]);
}

// per_sample[i] = −½ Σ_j (1 + logvar[i, j] − mu[i, j]² − exp(logvar[i, j])) for mu, logvar [n, latent] and
// kl[0] = scale · Σ_i per_sample[i] (KlDivergence, the batch mean, for scale = 1/n). One block per sample (grid = n,
// blockDim.x a multiple of 32), a strided per-thread sum and a block reduction, then the last block to finish sums
// the samples (finish_batch_loss on the ticket `counter`); deterministic.
extern "C" __global__ void __launch_bounds__(1024) kl_forward_kernel(float* __restrict__ kl, float* __restrict__ per_sample, unsigned* __restrict__ counter,
                                                                     const float* __restrict__ mu, const float* __restrict__ logvar, int n, int latent, float scale) {
    __shared__ float scratch[32];
    const int i = blockIdx.x;
    const float* m = mu + (long long)i * latent;
    const float* lv = logvar + (long long)i * latent;
    float s = 0.0f;
    for (int j = threadIdx.x; j < latent; j += blockDim.x) s += 1.0f + lv[j] - m[j] * m[j] - expf(lv[j]);
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) per_sample[i] = -0.5f * s;
    finish_batch_loss(kl, per_sample, counter, n, scale, scratch);
}

// Given dkl[0], with g = dkl[0]·scale: dmu[i, j] = g·mu[i, j];  dlogvar[i, j] = g·½(exp(logvar[i, j]) − 1). One thread
// per element of [n, latent]; both outputs are overwritten.
extern "C" __global__ void __launch_bounds__(1024) kl_backward_kernel(float* __restrict__ dmu, float* __restrict__ dlogvar, const float* __restrict__ dkl,
                                                                      const float* __restrict__ mu, const float* __restrict__ logvar, int n, int latent, float scale) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * latent) return;
    const float g = dkl[0] * scale;
    dmu[idx] = g * mu[idx];
    dlogvar[idx] = g * 0.5f * (expf(logvar[idx]) - 1.0f);
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(reparameterize_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(reparameterize_backward_kernel)
BLURVAE_HOST_KERNEL(kl_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(kl_backward_kernel)
#endif

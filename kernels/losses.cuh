// kernels/losses.cuh — the baseline reconstruction losses (L1, BCE, focal frequency) of BlurVae.Training/Losses,
// forward and backward side by side (the blur-kernel fit of the G_γ step is in wiener.cuh).
// Every forward writes one value per image, loss[i] = the C# loss of the one-image batch, so the batch value is
// Σ_i loss[i] / N (one block per image and a block reduction in shared memory: deterministic, no atomics).
// Backwards take dloss[N] (dL/dloss[i]; 1/N for the batch mean) and overwrite their outputs.
// Spectra are Rfft2/cuFFT half spectra [..., H, W/2+1, 2] of interleaved (re, im) floats; half_spectrum_multiplicity
// (wiener.cuh) gives each half-spectrum column's count in the full spectrum.
// Launch geometry: BlurVae.Kernels/Device/GpuDevice.Losses.cs.
#pragma once

// Max of v >= 0 over the block (0 for an empty block); blockDim.x a multiple of 32 (<= 1024), every thread calls it and
// every thread gets the result. `scratch` is a __shared__ float[32] of the caller, free on entry; it is free again on return.
__device__ __forceinline__ float losses_block_reduce_max(float v, float* scratch) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < (int)(blockDim.x / 32) ? scratch[lane] : 0.0f;
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    __syncthreads(); // every warp has read scratch before a later reduction overwrites it
    return v;
}

// ---- L1 (L1Loss.Compute): Σ |x − x̂| ----

// loss[i] = Σ_j |x[i, j] − x̂[i, j]| over the `size` = C·H·W elements of image i. One block per image (grid = n,
// blockDim.x a multiple of 32), consecutive threads on consecutive elements.
extern "C" __global__ void l1_forward_kernel(float* __restrict__ loss, const float* __restrict__ x, const float* __restrict__ xhat, int n, int size) {
    __shared__ float scratch[32];
    const int i = blockIdx.x;
    if (i >= n) return;
    const float* xi = x + (long long)i * size;
    const float* yi = xhat + (long long)i * size;
    float s = 0.0f;
    for (int j = threadIdx.x; j < size; j += blockDim.x) s += fabsf(xi[j] - yi[j]);
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) loss[i] = s;
}

// dxhat[i, j] = −dloss[i]·sign(x − x̂) with sign(0) = 0 (the CPU backend's Abs backward); dx would be −dxhat.
// One thread per element, grid = CEIL_DIV(n·size, block).
extern "C" __global__ void l1_backward_kernel(float* __restrict__ dxhat, const float* __restrict__ dloss, const float* __restrict__ x,
                                              const float* __restrict__ xhat, int n, int size) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * size) return;
    const float d = x[idx] - xhat[idx];
    const float g = dloss[idx / size];
    dxhat[idx] = d > 0.0f ? -g : d < 0.0f ? g : 0.0f;
}

// ---- BCE (BceLoss.Compute): −Σ [t·log p + (1 − t)·log(1 − p)] on [−1, 1] images ----

// t = (x + 1)/2, p = clamp((x̂ + 1)/2, ε, 1 − ε). 1 − p is computed as clamp((1 − x̂)/2, ε, 1 − ε) rather than as
// 1 − p: the same value in exact arithmetic, but without float32's cancellation near x̂ = 1 (1 − ε is not
// representable, and log(1 − p) would be off by 17% at the clamp); likewise 1 − t = (1 − x)/2.
__device__ __forceinline__ float bce_clamp(float q, float eps) { return fminf(fmaxf(q, eps), 1.0f - eps); }

// loss[i] = −Σ_j [t log p + (1 − t) log(1 − p)] over the `size` elements of image i. One block per image (grid = n,
// blockDim.x a multiple of 32).
extern "C" __global__ void bce_forward_kernel(float* __restrict__ loss, const float* __restrict__ x, const float* __restrict__ xhat,
                                              int n, int size, float eps) {
    __shared__ float scratch[32];
    const int i = blockIdx.x;
    if (i >= n) return;
    const float* xi = x + (long long)i * size;
    const float* yi = xhat + (long long)i * size;
    float s = 0.0f;
    for (int j = threadIdx.x; j < size; j += blockDim.x) {
        const float xv = xi[j], yv = yi[j];
        const float t = (1.0f + xv) * 0.5f, tc = (1.0f - xv) * 0.5f;
        const float p = bce_clamp((1.0f + yv) * 0.5f, eps), pc = bce_clamp((1.0f - yv) * 0.5f, eps);
        s += t * logf(p) + tc * logf(pc);
    }
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) loss[i] = -s;
}

// dxhat[i, j] = −dloss[i]·½·(t/p − (1 − t)/(1 − p)) strictly inside the clamp (ε < (1 ± x̂)/2), 0 where it is active
// (torch.clamp's and BceLoss's relu-built clamp's gradient). One thread per element, grid = CEIL_DIV(n·size, block).
extern "C" __global__ void bce_backward_kernel(float* __restrict__ dxhat, const float* __restrict__ dloss, const float* __restrict__ x,
                                               const float* __restrict__ xhat, int n, int size, float eps) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * size) return;
    const float xv = x[idx], yv = xhat[idx];
    const float p = (1.0f + yv) * 0.5f, pc = (1.0f - yv) * 0.5f;
    float g = 0.0f;
    if (p > eps && pc > eps) {
        const float t = (1.0f + xv) * 0.5f, tc = (1.0f - xv) * 0.5f;
        g = -dloss[idx / size] * 0.5f * (t / p - tc / pc);
    }
    dxhat[idx] = g;
}

// ---- focal frequency (FocalFrequencyLoss.Compute) ----

// The online spectrum weight, detached: for each (image, channel) plane of the orthonormal error half spectrum
// d = rfft2(x̂ − x) [n, c, h, wh, 2], weight = m_f · clamp(|d|^α / max_plane |d|^α, 0, 1) with NaN (an all-zero plane,
// 0/0) → 0 [n, c, h, wh]. The half-spectrum max is the full-spectrum max (every dropped bin mirrors a kept one);
// m_f folds the dropped mirror bins in. One block per plane (grid = n·c, blockDim.x a multiple of 32): a max
// reduction, then each thread rescales its strided bins. Replaces FocalWeight's host loop (a device sync).
extern "C" __global__ void focal_frequency_weight_kernel(float* __restrict__ weight, const float* __restrict__ d, int planes, int h, int w, float alpha) {
    __shared__ float scratch[32];
    const int plane = blockIdx.x;
    if (plane >= planes) return;
    const int wh = w / 2 + 1;
    const int bins = h * wh;
    const float* dp = d + (long long)plane * bins * 2;
    float* wp = weight + (long long)plane * bins;
    float m = 0.0f; // every |d|^α is >= 0, and an all-zero plane must give 0/0 below
    for (int f = threadIdx.x; f < bins; f += blockDim.x) {
        const float re = dp[2 * f], im = dp[2 * f + 1];
        const float v = powf(sqrtf(re * re + im * im), alpha);
        wp[f] = v; // staged; rescaled below by the same thread
        m = fmaxf(m, v);
    }
    m = losses_block_reduce_max(m, scratch);
    for (int f = threadIdx.x; f < bins; f += blockDim.x) {
        float v = wp[f] / m;
        if (v != v) v = 0.0f;           // NaN: 0/0 on an all-zero plane
        v = fminf(fmaxf(v, 0.0f), 1.0f);
        wp[f] = half_spectrum_multiplicity(f % wh, w) * v;
    }
}

// loss[i] = 1/(C·H·W) · Σ_c Σ_f weight[i, c, f]·|d[i, c, f]|² (the reference's mean over N·C·H·W is Σ_i loss[i] / N),
// weight = the output of focal_frequency_weight_kernel or a folded predefined matrix (multiplicity included).
// One block per image (grid = n, blockDim.x a multiple of 32), coalesced over the image's channel-major bins.
extern "C" __global__ void focal_frequency_forward_kernel(float* __restrict__ loss, const float* __restrict__ weight, const float* __restrict__ d,
                                                          int n, int channels, int h, int w) {
    __shared__ float scratch[32];
    const int i = blockIdx.x;
    if (i >= n) return;
    const int count = channels * h * (w / 2 + 1);
    const float* wi = weight + (long long)i * count;
    const float* di = d + (long long)i * count * 2;
    float s = 0.0f;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        const float re = di[2 * j], im = di[2 * j + 1];
        s += wi[j] * (re * re + im * im);
    }
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) loss[i] = s / ((float)channels * (float)h * (float)w);
}

// dd[i, c, f] = dloss[i]·2·weight[i, c, f]/(C·H·W)·d[i, c, f] (the weight is detached). The gradient w.r.t. x̂ is the
// orthonormal rfft2 adjoint of dd, and w.r.t. x its negative. One thread per complex bin, grid = CEIL_DIV(n·c·h·wh, block).
extern "C" __global__ void focal_frequency_backward_kernel(float* __restrict__ dd, const float* __restrict__ dloss, const float* __restrict__ weight,
                                                           const float* __restrict__ d, int n, int channels, int h, int w) {
    const int count = channels * h * (w / 2 + 1);
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * count) return;
    const float g = dloss[idx / count] * 2.0f * weight[idx] / ((float)channels * (float)h * (float)w);
    dd[2 * idx] = g * d[2 * idx];
    dd[2 * idx + 1] = g * d[2 * idx + 1];
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL(l1_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(l1_backward_kernel)
BLURVAE_HOST_KERNEL(bce_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(bce_backward_kernel)
BLURVAE_HOST_KERNEL(focal_frequency_weight_kernel)
BLURVAE_HOST_KERNEL(focal_frequency_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(focal_frequency_backward_kernel)
#endif

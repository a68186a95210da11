// kernels/losses.cuh — the baseline reconstruction losses' device pieces: the focal frequency loss's detached weight
// (L1, BCE and the focal frequency product itself are generic op chains; the blur-kernel fit of the G_γ step is in
// wiener.cuh). Spectra are Rfft2/cuFFT half spectra [..., H, W/2+1, 2] of interleaved (re, im) floats;
// half_spectrum_multiplicity (wiener.cuh) gives each half-spectrum column's count in the full spectrum.
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

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL(focal_frequency_weight_kernel)
#endif

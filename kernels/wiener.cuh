// kernels/wiener.cuh — the blur model of the method (docs/method.md): the kernel's OTF embedding, the Wiener-weighted
// reconstruction term and the blur-kernel fit loss of the G_γ step (one value per image by a block reduction per
// image, and their scaled sum — the batch mean — by the last block: deterministic), forward and backward side by side.
// Spectra are cuFFT/Rfft2 half spectra stored as interleaved (re, im) float pairs: [..., H, Wh, 2], Wh = W/2 + 1.
// Launch geometry: BlurVae.Kernels/Device/GpuDevice.Wiener.cs.
#pragma once

// Multiplicity of half-spectrum column v of a width-w signal in the full spectrum (the device twin of
// BlurVae.Kernels/ShapeRules.cs ColumnMultiplicity):
// 1 for column 0 and, for even w, column w/2 (self-conjugate); 2 for the interior columns, which stand for their mirrors.
__device__ __forceinline__ float half_spectrum_multiplicity(int v, int w) {
    return (v == 0 || ((w & 1) == 0 && v == w / 2)) ? 1.0f : 2.0f;
}

// ---- kernel → OTF embedding (BlurKernelOtf.Embed) ----

// i mod len for i in [−len, 2·len): the centre roll of the embedding and of its adjoint, (p ± r) mod len with p, r < len.
__device__ __forceinline__ int otf_wrap(int i, int len) {
    return i < 0 ? i + len : (i >= len ? i - len : i);
}

// out[i, p, q] = k[i, (p + r) mod h, (q + r) mod w] where that index is inside the ks×ks kernel, else 0 (r = ks/2):
// the kernel zero-padded to h×w with its centre rolled to (0, 0), i.e. k[a, b] lands on ((a − r) mod h, (b − r) mod w).
// One thread per output element (grid = CEIL_DIV(n·h·w, block)), so the writes are coalesced and every element of
// out is written (zeros included); needs ks odd and ks <= h, w (checked by the launcher), which makes the map one-to-one.
extern "C" __global__ void blur_kernel_to_otf_forward_kernel(float* __restrict__ out, const float* __restrict__ k, int n, int ks, int h, int w) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const long long total = (long long)n * h * w;
    if (idx >= total) return;
    int p, q;
    const long long i = plane_row_col(idx, h, w, &p, &q);
    const int r = ks / 2;
    const int a = otf_wrap(p + r, h), b = otf_wrap(q + r, w);
    out[idx] = (a < ks && b < ks) ? k[((long long)i * ks + a) * ks + b] : 0.0f;
}

// The adjoint of the embedding: dk[i, a, b] = dout[i, (a − r) mod h, (b − r) mod w] (a gather; the dropped zero
// padding has no gradient). One thread per kernel element, grid = CEIL_DIV(n·ks·ks, block).
extern "C" __global__ void blur_kernel_to_otf_backward_kernel(float* __restrict__ dk, const float* __restrict__ dout, int n, int ks, int h, int w) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const long long total = (long long)n * ks * ks;
    if (idx >= total) return;
    int a, b;
    const long long i = plane_row_col(idx, ks, ks, &a, &b);
    const int r = ks / 2;
    const int p = otf_wrap(a - r, h), q = otf_wrap(b - r, w);
    dk[idx] = dout[((long long)i * h + p) * w + q];
}

// ---- Wiener-weighted error (WienerBlurLoss.Compute) ----

// per_image[i] = ½ Σ_c Σ_f m_f |W_f|² |E[i, c, f]|² with |W_f|² = |F_k[i, f]|² / (|F_k[i, f]|² + C)², m_f the column
// multiplicity, and loss[0] = scale · Σ_i per_image[i] (the batch mean for scale = 1/n). fk [n, h, wh, 2] is the
// unnormalised kernel spectrum, e [n, c, h, wh, 2] the error spectrum F(x − x̂) (unnormalised from WienerBlurLoss,
// whose scale carries the 1/(h·w)), wh = w/2 + 1. One block per image (grid = n, blockDim.x a multiple of 32): each
// thread takes a strided set of bins, computes the gain once per bin and applies it to every channel (coalesced over
// the bins), then the block reduces and the last block to finish sums the images (finish_batch_loss on the ticket
// `counter`). Deterministic: no float atomics.
extern "C" __global__ void __launch_bounds__(1024) wiener_weight_forward_kernel(float* __restrict__ loss, float* __restrict__ per_image,
                                                        unsigned* __restrict__ counter, const float* __restrict__ fk, const float* __restrict__ e,
                                                        int n, int channels, int h, int w, float constant, float scale) {
    __shared__ float scratch[32];
    const int i = blockIdx.x;
    const int wh = w / 2 + 1;
    const int bins = h * wh;
    const float* fki = fk + (long long)i * bins * 2;
    const float* ei = e + (long long)i * channels * bins * 2;
    float s = 0.0f;
    for (int f = threadIdx.x; f < bins; f += blockDim.x) {
        const float kr = fki[2 * f], ki = fki[2 * f + 1];
        const float p = kr * kr + ki * ki;
        const float d = p + constant;
        const float gain = p / (d * d);
        float err = 0.0f;
        for (int c = 0; c < channels; c++) {
            const float* ec = ei + ((long long)c * bins + f) * 2;
            err += ec[0] * ec[0] + ec[1] * ec[1];
        }
        s += half_spectrum_multiplicity(f % wh, w) * gain * err;
    }
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) per_image[i] = 0.5f * s;
    finish_batch_loss(loss, per_image, counter, n, scale, scratch);
}

// Gradients of loss[0] (above) given dloss[0], with g = dloss[0]·scale (read here, so no broadcast precedes it):
//   de[i, c, f]  = g · m_f |W_f|² E[i, c, f]                              (½ · 2)
//   dfk[i, f]    = g · m_f S_f (C − p)/(p + C)³ · F_k[i, f]               with p = |F_k|², S_f = Σ_c |E[i, c, f]|²,
// from d|W|²/dp = (C − p)/(p + C)³ and dp/d(re, im) = 2(re, im). One thread per (image, bin), grid = CEIL_DIV(n·h·wh, block);
// it loops over the channels, so dfk needs no reduction across threads. Both outputs are overwritten.
extern "C" __global__ void __launch_bounds__(1024) wiener_weight_backward_kernel(float* __restrict__ de, float* __restrict__ dfk, const float* __restrict__ dloss,
                                                         const float* __restrict__ fk, const float* __restrict__ e,
                                                         int n, int channels, int h, int w, float constant, float scale) {
    const int wh = w / 2 + 1;
    const int bins = h * wh;
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * bins) return;
    const int f = (int)(idx % bins);
    const int i = (int)(idx / bins);
    const float g = dloss[0] * scale * half_spectrum_multiplicity(f % wh, w);
    const float kr = fk[2 * idx], ki = fk[2 * idx + 1];
    const float p = kr * kr + ki * ki;
    const float d = p + constant;
    const float gain = p / (d * d);
    const float dgain = (constant - p) / (d * d * d);
    float err = 0.0f;
    for (int c = 0; c < channels; c++) {
        const long long o = (((long long)i * channels + c) * bins + f) * 2;
        const float er = e[o], ei = e[o + 1];
        err += er * er + ei * ei;
        de[o] = g * gain * er;
        de[o + 1] = g * gain * ei;
    }
    const float s = g * err * dgain;
    dfk[2 * idx] = s * kr;
    dfk[2 * idx + 1] = s * ki;
}

// ---- blur-kernel fit (BlurKernelFitLoss.Compute), the G_γ step's loss: ‖x ∗ k − x̂‖² ----

// per_image[i] = Σ_c Σ_p (x ∗ k − x̂)²[i, c, p] by Parseval on the unnormalised half spectra:
//   per_image[i] = 1/(h·w) · Σ_c Σ_f m_f |X[i, c, f]·F_k[i, f] − X̂[i, c, f]|²,
// and loss[0] = scale · Σ_i per_image[i] (the batch mean for scale = 1/n). X = rfft2(x), X̂ = rfft2(x̂) [n, c, h, wh, 2]
// and F_k [n, h, wh, 2] (BlurKernelOtf: one kernel per image, applied to every channel), all with FftNorm.Backward. One
// block per image (grid = n, blockDim.x a multiple of 32): each thread takes a strided set of bins (coalesced), reads
// F_k once per bin and loops over the channels, then the block reduces and the last block sums the images.
extern "C" __global__ void __launch_bounds__(1024) blur_kernel_fit_forward_kernel(float* __restrict__ loss, float* __restrict__ per_image,
                                                     unsigned* __restrict__ counter, const float* __restrict__ x, const float* __restrict__ xhat,
                                                     const float* __restrict__ fk, int n, int channels, int h, int w, float scale) {
    __shared__ float scratch[32];
    const int i = blockIdx.x;
    const int wh = w / 2 + 1;
    const int bins = h * wh;
    const float* fki = fk + (long long)i * bins * 2;
    const float* xi = x + (long long)i * channels * bins * 2;
    const float* yi = xhat + (long long)i * channels * bins * 2;
    float s = 0.0f;
    for (int f = threadIdx.x; f < bins; f += blockDim.x) {
        const float kr = fki[2 * f], ki = fki[2 * f + 1];
        float err = 0.0f;
        for (int c = 0; c < channels; c++) {
            const long long o = ((long long)c * bins + f) * 2;
            const float ar = xi[o], ai = xi[o + 1];
            const float rr = ar * kr - ai * ki - yi[o];
            const float ri = ar * ki + ai * kr - yi[o + 1];
            err += rr * rr + ri * ri;
        }
        s += half_spectrum_multiplicity(f % wh, w) * err;
    }
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) per_image[i] = s / ((float)h * (float)w);
    finish_batch_loss(loss, per_image, counter, n, scale, scratch);
}

// Gradients of loss[0] (above) given dloss[0], with R = X·F_k − X̂ and g = dloss[0]·scale·2m_f/(h·w):
//   dxhat[i, c, f] = −g·R[i, c, f];    dfk[i, f] = g·Σ_c R[i, c, f]·conj(X[i, c, f]).
// (BlurKernelFitLoss differentiates through x, x̂ and k; the trainer detaches x and x̂, so x's gradient is not produced.)
// One thread per (image, bin), grid = CEIL_DIV(n·h·wh, block); the channel sum stays in one thread, so no atomics.
extern "C" __global__ void __launch_bounds__(1024) blur_kernel_fit_backward_kernel(float* __restrict__ dxhat, float* __restrict__ dfk, const float* __restrict__ dloss,
                                                      const float* __restrict__ x, const float* __restrict__ xhat, const float* __restrict__ fk,
                                                      int n, int channels, int h, int w, float scale) {
    const int wh = w / 2 + 1;
    const int bins = h * wh;
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)n * bins) return;
    const int f = (int)(idx % bins);
    const int i = (int)(idx / bins);
    const float g = dloss[0] * scale * 2.0f * half_spectrum_multiplicity(f % wh, w) / ((float)h * (float)w);
    const float kr = fk[2 * idx], ki = fk[2 * idx + 1];
    float sr = 0.0f, si = 0.0f;
    for (int c = 0; c < channels; c++) {
        const long long o = (((long long)i * channels + c) * bins + f) * 2;
        const float ar = x[o], ai = x[o + 1];
        const float rr = g * (ar * kr - ai * ki - xhat[o]);
        const float ri = g * (ar * ki + ai * kr - xhat[o + 1]);
        dxhat[o] = -rr;
        dxhat[o + 1] = -ri;
        sr += rr * ar + ri * ai;
        si += ri * ar - rr * ai;
    }
    dfk[2 * idx] = sr;
    dfk[2 * idx + 1] = si;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(blur_kernel_to_otf_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(blur_kernel_to_otf_backward_kernel)
BLURVAE_HOST_KERNEL(wiener_weight_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(wiener_weight_backward_kernel)
BLURVAE_HOST_KERNEL(blur_kernel_fit_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(blur_kernel_fit_backward_kernel)
#endif

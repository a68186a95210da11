// kernels/resize.cuh — bilinear resizing [planes, in_h, in_w] → [planes, out_h, out_w] with align_corners = false
// (F.interpolate(size=…, mode="bilinear"), as CpuBackend.Resize.cs), forward and backward. It serves both the 2×
// upsampling of architecture B (nn.Upsample(scale_factor=2, mode="bilinear") is the resize to 2h × 2w: same taps,
// multiples of 1/4, exact in float) and Inception's resize to 299.
// Launch (Device/GpuDevice.Resize.cs): one thread per element of the output (forward) or of the input (backward),
// grid = CEIL_DIV(count, block). The backward gathers instead of scattering, so it needs no atomics and every
// dx element is summed in a fixed order: deterministic.
#pragma once

// PyTorch's source-index rule for F.interpolate(size=…) (CpuBackend.ResizeTap): src = max((o + ½)·n/m − ½, 0),
// i0 = ⌊src⌋, i1 = i0 + 1 unless i0 is the last pixel, weights (1 − λ, λ), λ = src − i0. Computed in float, as
// PyTorch does for float tensors; the CPU backend's double differs by float rounding only.
__device__ __forceinline__ void resize_tap(int o, int n, int m, int* i0, int* i1, float* w0, float* w1) {
    const float src = fmaxf(((float)o + 0.5f) * ((float)n / (float)m) - 0.5f, 0.0f);
    const int a = min((int)src, n - 1);
    *i0 = a;
    *i1 = a < n - 1 ? a + 1 : a;
    *w1 = src - (float)a;
    *w0 = 1.0f - *w1;
}

// ---- bilinear resize to any size [planes, in_h, in_w] → [planes, out_h, out_w], align_corners = false ----
// The weight output o of an axis gives input pixel i (0 when it does not read it; both taps when they coincide).
__device__ __forceinline__ float resize_weight(int o, int i, int n, int m) {
    int i0, i1;
    float w0, w1;
    resize_tap(o, n, m, &i0, &i1, &w0, &w1);
    return (i0 == i ? w0 : 0.0f) + (i1 == i ? w1 : 0.0f);
}

// The outputs [*lo, *hi] of an axis that may read input i: src ∈ (i − 1, i + 1) ⇔ o ∈ ((i − ½)·m/n − ½, (i + 1½)·m/n − ½),
// widened by one on each side against float rounding (resize_weight decides).
__device__ __forceinline__ void resize_readers(int i, int n, int m, int* lo, int* hi) {
    const float r = (float)m / (float)n;
    *lo = max(0, (int)floorf(((float)i - 0.5f) * r - 0.5f) - 1);
    *hi = min(m - 1, (int)ceilf(((float)i + 1.5f) * r - 0.5f) + 1);
}

extern "C" __global__ void resize_bilinear_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int planes, int in_h, int in_w, int out_h, int out_w) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)planes * out_h * out_w) return;
    int r, c;
    const long long p = plane_row_col(i, out_h, out_w, &r, &c);
    int r0, r1, c0, c1;
    float a0, a1, b0, b1;
    resize_tap(r, in_h, out_h, &r0, &r1, &a0, &a1);
    resize_tap(c, in_w, out_w, &c0, &c1, &b0, &b1);
    const float* src = x + p * in_h * in_w;
    y[i] = a0 * (b0 * src[r0 * in_w + c0] + b1 * src[r0 * in_w + c1]) + a1 * (b0 * src[r1 * in_w + c0] + b1 * src[r1 * in_w + c1]);
}

// dx[p, i, j] = Σ over the outputs (r, c) that read it of weight_r(i)·weight_c(j)·dy[p, r, c]: a gather over the
// reader ranges of row i and column j, so no atomics and a fixed summation order (deterministic).
extern "C" __global__ void resize_bilinear_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, int planes, int in_h, int in_w, int out_h, int out_w) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)planes * in_h * in_w) return;
    int i, j;
    const long long p = plane_row_col(idx, in_h, in_w, &i, &j);
    const float* g = dy + p * out_h * out_w;
    int r_lo, r_hi, c_lo, c_hi;
    resize_readers(i, in_h, out_h, &r_lo, &r_hi);
    resize_readers(j, in_w, out_w, &c_lo, &c_hi);
    float acc = 0.0f;
    for (int r = r_lo; r <= r_hi; r++) {
        const float wr = resize_weight(r, i, in_h, out_h);
        if (wr == 0.0f) continue;
        float row = 0.0f;
        for (int c = c_lo; c <= c_hi; c++) {
            const float wc = resize_weight(c, j, in_w, out_w);
            if (wc != 0.0f) row += wc * g[(long long)r * out_w + c];
        }
        acc += wr * row;
    }
    dx[idx] = acc;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(resize_bilinear_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(resize_bilinear_backward_kernel)
#endif

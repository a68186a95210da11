// kernels/upsample.cuh — bilinear 2× upsampling [planes, h, w] → [planes, 2h, 2w] with align_corners = false,
// as CpuBackend.Upsample.cs (PyTorch's nn.Upsample(scale_factor=2, mode="bilinear")), and bilinear resizing to any
// size (F.interpolate(size=…, mode="bilinear"), Inception's resize to 299), forward and backward.
// Launch (Device/GpuDevice.Upsample.cs): one thread per element of the output (forward) or of the input (backward),
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

// The 2× upsample's taps are the resize's with m = 2n: the coordinate (o + ½)/2 − ½ and its weights are multiples of
// 1/4, so float computes them exactly, as the CPU backend does in double.
__device__ __forceinline__ void upsample_tap(int o, int len, int* i0, int* i1, float* w0, float* w1) {
    resize_tap(o, len, 2 * len, i0, i1, w0, w1);
}

extern "C" __global__ void upsample_bilinear2x_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int planes, int h, int w) {
    const int oh = 2 * h, ow = 2 * w;
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)planes * oh * ow) return;
    const int c = (int)(i % ow);
    const long long pr = i / ow;
    const int r = (int)(pr % oh);
    const long long p = pr / oh;
    int r0, r1, c0, c1;
    float a0, a1, b0, b1;
    upsample_tap(r, h, &r0, &r1, &a0, &a1);
    upsample_tap(c, w, &c0, &c1, &b0, &b1);
    const float* src = x + p * h * w;
    y[i] = a0 * (b0 * src[r0 * w + c0] + b1 * src[r0 * w + c1]) + a1 * (b0 * src[r1 * w + c0] + b1 * src[r1 * w + c1]);
}

// dx[p, i, j] = Σ over the outputs (r, c) that read it of weight_r(i)·weight_c(j)·dy[p, r, c]. Input row i is read
// only by output rows 2i − 1 … 2i + 2 (and likewise for columns), so each thread gathers at most 4×4 values.
// A clamped tap that reads i through both i0 and i1 adds both weights.
extern "C" __global__ void upsample_bilinear2x_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, int planes, int h, int w) {
    const int oh = 2 * h, ow = 2 * w;
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)planes * h * w) return;
    const int j = (int)(idx % w);
    const long long pi = idx / w;
    const int i = (int)(pi % h);
    const long long p = pi / h;
    const float* g = dy + p * oh * ow;

    // Column weights once: the same four columns serve every row.
    float wc[4];
    for (int k = 0; k < 4; k++) {
        const int c = 2 * j - 1 + k;
        wc[k] = 0.0f;
        if (c < 0 || c >= ow) continue;
        int c0, c1;
        float b0, b1;
        upsample_tap(c, w, &c0, &c1, &b0, &b1);
        if (c0 == j) wc[k] += b0;
        if (c1 == j) wc[k] += b1;
    }

    float acc = 0.0f;
    for (int k = 0; k < 4; k++) {
        const int r = 2 * i - 1 + k;
        if (r < 0 || r >= oh) continue;
        int r0, r1;
        float a0, a1;
        upsample_tap(r, h, &r0, &r1, &a0, &a1);
        const float wr = (r0 == i ? a0 : 0.0f) + (r1 == i ? a1 : 0.0f);
        if (wr == 0.0f) continue;
        for (int q = 0; q < 4; q++) {
            const int c = 2 * j - 1 + q;
            if (wc[q] != 0.0f) acc += wr * wc[q] * g[(long long)r * ow + c];
        }
    }
    dx[idx] = acc;
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
    const int c = (int)(i % out_w);
    const long long pr = i / out_w;
    const int r = (int)(pr % out_h);
    const long long p = pr / out_h;
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
    const int j = (int)(idx % in_w);
    const long long pi = idx / in_w;
    const int i = (int)(pi % in_h);
    const long long p = pi / in_h;
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
BLURVAE_HOST_KERNEL_NO_SYNC(upsample_bilinear2x_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(upsample_bilinear2x_backward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(resize_bilinear_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(resize_bilinear_backward_kernel)
#endif

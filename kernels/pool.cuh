// kernels/pool.cuh — 2-D max and average pooling over planes [planes, in_h, in_w] → [planes, out_h, out_w], fixed or
// adaptive windows, forward and backward side by side (CpuBackend.Pool.cs; the window rule is PoolGeometry.Window).
// Launch (Device/GpuDevice.Pool.cs): one thread per output element (forward) or per input element (backward),
// grid = CEIL_DIV(count, block). The backward gathers from the outputs whose windows hold the pixel instead of
// scattering, so it needs no atomics and sums in a fixed order (deterministic).
// mode: 0 max, 1 average. A maximum's gradient goes to the first maximal pixel of its window in row-major order
// (PyTorch's saved index); the backward finds it again from x.
#pragma once

// Output o's window along an axis of input length n and output length m: input pixels [*start, *end) and the
// extent a padding-counting average divides by. Adaptive: [⌊o·n/m⌋, ⌈(o+1)·n/m⌉). Fixed: [o·s − p, o·s − p + k)
// clipped to n + p for the extent, then to [0, n).
__device__ __forceinline__ void pool_window(int o, int n, int m, int k, int s, int p, int adaptive, int* start, int* end, int* extent) {
    if (adaptive) {
        *start = (int)((long long)o * n / m);
        *end = (int)(((long long)(o + 1) * n + m - 1) / m);
        *extent = *end - *start;
        return;
    }
    const int a = o * s - p, b = min(a + k, n + p);
    *extent = b - a;
    *start = max(a, 0);
    *end = min(b, n);
}

// The outputs [*lo, *hi] of an axis whose windows may hold input pixel i (the caller checks pool_window).
__device__ __forceinline__ void pool_readers(int i, int n, int m, int k, int s, int p, int adaptive, int* lo, int* hi) {
    if (adaptive) {
        *lo = (int)((long long)i * m / n);
        *hi = min(m - 1, (int)(((long long)(i + 1) * m + n - 1) / n) - 1);
        return;
    }
    // o·s − p ≤ i < o·s − p + k  ⇔  (i + p − k)/s < o ≤ (i + p)/s
    const int t = i + p - k;
    *lo = max(0, (t >= 0 ? t / s : -((-t + s - 1) / s)) + 1);
    *hi = min(m - 1, (i + p) / s);
}

// Index within the plane of the first maximum of window rows [r0, r1) × cols [c0, c1).
__device__ __forceinline__ int pool_argmax(const float* plane, int w, int r0, int r1, int c0, int c1) {
    int best = r0 * w + c0;
    float v_best = plane[best];
    for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++) {
            const float v = plane[r * w + c];
            if (v > v_best || isnan(v)) { v_best = v; best = r * w + c; }
        }
    return best;
}

// Both kernels take the geometry as (planes, in_h, in_w, out_h, out_w, k_h, k_w, s_h, s_w, p_h, p_w, mode,
// count_include_pad, adaptive), spelled out rather than a macro so that KernelSignatures can read the parameter lists.
extern "C" __global__ void pool2d_forward_kernel(float* __restrict__ y, const float* __restrict__ x,
                                                      int planes, int in_h, int in_w, int out_h, int out_w, int k_h, int k_w, int s_h, int s_w, int p_h, int p_w,
                                                      int mode, int count_include_pad, int adaptive) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)planes * out_h * out_w) return;
    int oh, ow;
    const long long p = plane_row_col(idx, out_h, out_w, &oh, &ow);
    int r0, r1, er, c0, c1, ec;
    pool_window(oh, in_h, out_h, k_h, s_h, p_h, adaptive, &r0, &r1, &er);
    pool_window(ow, in_w, out_w, k_w, s_w, p_w, adaptive, &c0, &c1, &ec);
    const float* plane = x + p * in_h * in_w;
    if (mode == 0) {
        y[idx] = plane[pool_argmax(plane, in_w, r0, r1, c0, c1)];
        return;
    }
    float sum = 0.0f;
    for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++) sum += plane[r * in_w + c];
    y[idx] = sum / (float)(count_include_pad ? er * ec : (r1 - r0) * (c1 - c0));
}

extern "C" __global__ void pool2d_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, const float* __restrict__ x,
                                                      int planes, int in_h, int in_w, int out_h, int out_w, int k_h, int k_w, int s_h, int s_w, int p_h, int p_w,
                                                      int mode, int count_include_pad, int adaptive) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)planes * in_h * in_w) return;
    int i, j;
    const long long p = plane_row_col(idx, in_h, in_w, &i, &j);
    const float* plane = x + p * in_h * in_w;
    const float* g = dy + p * out_h * out_w;
    int oh_lo, oh_hi, ow_lo, ow_hi;
    pool_readers(i, in_h, out_h, k_h, s_h, p_h, adaptive, &oh_lo, &oh_hi);
    pool_readers(j, in_w, out_w, k_w, s_w, p_w, adaptive, &ow_lo, &ow_hi);
    float acc = 0.0f;
    for (int oh = oh_lo; oh <= oh_hi; oh++) {
        int r0, r1, er;
        pool_window(oh, in_h, out_h, k_h, s_h, p_h, adaptive, &r0, &r1, &er);
        if (i < r0 || i >= r1) continue;
        for (int ow = ow_lo; ow <= ow_hi; ow++) {
            int c0, c1, ec;
            pool_window(ow, in_w, out_w, k_w, s_w, p_w, adaptive, &c0, &c1, &ec);
            if (j < c0 || j >= c1) continue;
            const float d = g[oh * out_w + ow];
            if (mode == 0) {
                if (pool_argmax(plane, in_w, r0, r1, c0, c1) == i * in_w + j) acc += d;
            } else {
                acc += d / (float)(count_include_pad ? er * ec : (r1 - r0) * (c1 - c0));
            }
        }
    }
    dx[idx] = acc;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(pool2d_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(pool2d_backward_kernel)
#endif

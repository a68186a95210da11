// kernels/reduce.cuh — reductions.
#pragma once

// y[r] = Σ_c x[r, c] for x[rows, cols]: one block per row (grid = rows), blockDim.x a multiple of 32.
// Each thread sums a strided slice of the row, then the block reduces through warp shuffles and shared memory.
extern "C" __global__ void sum_rows_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int rows, int cols) {
    __shared__ float scratch[32];
    const int row = blockIdx.x;
    if (row >= rows) return; // uniform over the block, so no thread is left at a barrier
    const float* xr = x + (long long)row * cols;
    float s = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) s += xr[c];
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) y[row] = s;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL(sum_rows_forward_kernel)
#endif

// ---- sums to a broadcast-compatible shape, broadcasts, axis slices (CpuBackend.Reduce.cs) ------------------------------
// These use broadcast_offset, BROADCAST_MAX_RANK and BROADCAST_UNROLL from elementwise.cuh (included before this header in kernels.cu).
// Launch (Device/GpuDevice.Shape.cs): one thread per output element, grid = CEIL_DIV(count, block).

// y = x summed over the reduced axes. x has the coalesced shape e0..e5 (left-padded with 1); bit k of reduced_mask
// marks axis k as summed away; y is x's shape without those axes (row-major), ny elements, and each y element sums
// nr = Π(reduced extents) x elements. One thread per y element walks its reduced indices with an odometer, in
// row-major order: deterministic, no atomics. When the innermost axis is kept, adjacent threads read adjacent x.
extern "C" __global__ void sum_to_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int ny, int nr, int reduced_mask,
                                                 int e0, int e1, int e2, int e3, int e4, int e5) {
    const int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= ny) return;
    const int e[BROADCAST_MAX_RANK] = {e0, e1, e2, e3, e4, e5};
    long long stride[BROADCAST_MAX_RANK];
    long long s = 1;
BROADCAST_UNROLL
    for (int k = BROADCAST_MAX_RANK - 1; k >= 0; --k) {
        stride[k] = s;
        s *= e[k];
    }
    // Base offset: o decomposed over the kept axes.
    long long base = 0, rest = o;
BROADCAST_UNROLL
    for (int k = BROADCAST_MAX_RANK - 1; k >= 0; --k) {
        if ((reduced_mask >> k) & 1) continue;
        const long long q = rest / e[k];
        base += (rest - q * e[k]) * stride[k];
        rest = q;
    }
    int count[BROADCAST_MAX_RANK] = {0, 0, 0, 0, 0, 0};
    long long off = base;
    float acc = 0.0f;
    for (int r = 0; r < nr; ++r) {
        acc += x[off];
        // Advance the odometer over the reduced axes, innermost first.
BROADCAST_UNROLL
        for (int k = BROADCAST_MAX_RANK - 1; k >= 0; --k) {
            if (!((reduced_mask >> k) & 1)) continue;
            off += stride[k];
            if (++count[k] < e[k]) break;
            off -= (long long)e[k] * stride[k];
            count[k] = 0;
        }
    }
    y[o] = acc;
}

// y = x repeated along its broadcast axes: y has the coalesced shape d0..d5, x the element strides xs0..xs5
// (0 along the axes where x has extent 1).
extern "C" __global__ void broadcast_to_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int n,
                                                       int d0, int d1, int d2, int d3, int d4, int d5,
                                                       int xs0, int xs1, int xs2, int xs3, int xs4, int xs5) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const int e[BROADCAST_MAX_RANK] = {d0, d1, d2, d3, d4, d5};
    const long long sx[BROADCAST_MAX_RANK] = {xs0, xs1, xs2, xs3, xs4, xs5};
    y[i] = x[broadcast_offset(i, e, sx)];
}

// Viewing dst as [outer, dst_axis, inner] and src as [outer, src_axis, inner]:
// dst[o, dst_start + l, j] (+)= src[o, src_start + l, j] for l < length, one thread per (o, l, j) of the slab.
// Adjacent threads touch adjacent elements of both buffers.
extern "C" __global__ void copy_axis_slice_kernel(float* __restrict__ dst, const float* __restrict__ src, int outer, int length, int inner,
                                                  int dst_axis, int dst_start, int src_axis, int src_start, int accumulate) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const long long slab = (long long)length * inner;
    if (i >= (long long)outer * slab) return;
    const long long o = i / slab;
    const long long within = i - o * slab; // = l·inner + j
    const float v = src[(o * src_axis + src_start) * inner + within];
    float* d = dst + (o * dst_axis + dst_start) * inner + within;
    *d = accumulate ? *d + v : v;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(sum_to_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(broadcast_to_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(copy_axis_slice_kernel)
#endif

// kernels/reduce.cuh — reductions.
#pragma once

// ---- sums to a broadcast-compatible shape, broadcasts, axis slices (CpuBackend.Reduce.cs) ------------------------------
// These use broadcast_offsets, BROADCAST_MAX_RANK and BROADCAST_UNROLL from elementwise.cuh (included before this
// header in kernels.cu). Launchers: GpuDevice.Shape.cs.

// x's coalesced shape alternates kept and reduced axes, so each kind has at most half of BROADCAST_MAX_RANK.
#define SUM_TO_MAX_AXES 3

// A two-level block reduction of x over its reduced axes (no thread loops over a whole batch, no atomics):
// block (bx, by) threads, blockIdx.x·bx + threadIdx.x is the output o, and the nr reduced elements of o are cut into
// gridDim.y chunks of `chunk`; thread row threadIdx.y sums every by-th element of the block's chunk, then the by rows
// are added and the chunks finished by column_sum_finish (common.cuh): one launch, the same bits whichever block
// arrives last, no float atomics. The launcher picks
// bx = 32 when the innermost axis is kept (a warp reads 32 adjacent outputs' elements) and bx = 1 when it is reduced
// (a warp reads 32 adjacent reduced elements). Kept and reduced axes come innermost first (extent, fast_div magic
// and shift, element stride in x), as broadcast_offsets takes them.
extern "C" __global__ void sum_to_forward_kernel(float* __restrict__ y, float* __restrict__ partial, unsigned* __restrict__ counters,
                                                 const float* __restrict__ x, int ny, int nr, int chunk,
                                                 int kept_rank, int ke0, int ke1, int ke2, unsigned km0, unsigned km1, unsigned km2,
                                                 unsigned ksh0, unsigned ksh1, unsigned ksh2, int kst0, int kst1, int kst2,
                                                 int red_rank, int re0, int re1, int re2, unsigned rm0, unsigned rm1, unsigned rm2,
                                                 unsigned rsh0, unsigned rsh1, unsigned rsh2, int rst0, int rst1, int rst2) {
    __shared__ float rows[1024];
    const int o = blockIdx.x * blockDim.x + threadIdx.x;
    const int begin = blockIdx.y * chunk;
    const int end = min(begin + chunk, nr);
    float acc = 0.0f;
    if (o < ny) {
        const int ke[SUM_TO_MAX_AXES] = {ke0, ke1, ke2}, kst[SUM_TO_MAX_AXES] = {kst0, kst1, kst2};
        const unsigned km[SUM_TO_MAX_AXES] = {km0, km1, km2}, ksh[SUM_TO_MAX_AXES] = {ksh0, ksh1, ksh2};
        const int re[SUM_TO_MAX_AXES] = {re0, re1, re2}, rst[SUM_TO_MAX_AXES] = {rst0, rst1, rst2};
        const unsigned rm[SUM_TO_MAX_AXES] = {rm0, rm1, rm2}, rsh[SUM_TO_MAX_AXES] = {rsh0, rsh1, rsh2};
        long long base, unused;
        broadcast_offsets<SUM_TO_MAX_AXES>(o, kept_rank, ke, km, ksh, kst, kst, &base, &unused);
        for (int r = begin + (int)threadIdx.y; r < end; r += blockDim.y) {
            long long off;
            broadcast_offsets<SUM_TO_MAX_AXES>(r, red_rank, re, rm, rsh, rst, rst, &off, &unused);
            acc += x[base + off];
        }
    }
    column_sum_finish(y, partial, counters, acc, o, ny, rows);
}

// y = x repeated along its broadcast axes: y has a coalesced shape of `rank` axes given innermost first (extent,
// fast_div magic and shift), x the element strides xs (0 along the axes where x has extent 1).
extern "C" __global__ void broadcast_to_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int n, BROADCAST_WALK_PARAMS,
                                                       int xs0, int xs1, int xs2, int xs3, int xs4, int xs5) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    BROADCAST_WALK_ARRAYS;
    const int xs[BROADCAST_MAX_RANK] = {xs0, xs1, xs2, xs3, xs4, xs5};
    long long off, unused;
    broadcast_offsets<BROADCAST_MAX_RANK>(i, rank, e, m, s, xs, xs, &off, &unused);
    y[i] = x[off];
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

// The gradient of a narrow along the middle axis of dx [outer, axis, inner]: dx[o, a, j] = dy[o, a − start, j] for
// start ≤ a < start + length, 0 elsewhere. One thread per element of dx, so every element is written once: no zero-fill
// before a slab copy (copy_axis_slice_kernel), one launch instead of a memset and a launch.
extern "C" __global__ void __launch_bounds__(1024) narrow_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, int n, int axis,
                                                                          int start, int length, int inner) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const int plane = axis * inner;
    const int o = i / plane;
    const int within = i - o * plane; // = a·inner + j
    const int a = within / inner;
    dx[i] = a >= start && a < start + length ? dy[(o * length + (a - start)) * inner + (within - a * inner)] : 0.0f;
}

// x [outer, 2·half, inner] split along its middle axis into its halves a and b [outer, half, inner]
// (half_inner = half·inner), one thread per element of a half: one launch for both outputs.
extern "C" __global__ void __launch_bounds__(1024) split_forward_kernel(float* __restrict__ a, float* __restrict__ b, const float* __restrict__ x, int n,
                                                                        int half_inner) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const int o = i / half_inner;
    const int at = i + o * half_inner; // = o·2·half_inner + (i − o·half_inner)
    a[i] = x[at];
    b[i] = x[at + half_inner];
}

// Its gradient: dx's first half = da, its second = db, a null gradient (no gradient reached that output) giving zeros.
// Every element of dx written once: no zero-fill, one launch for both halves.
extern "C" __global__ void __launch_bounds__(1024) split_backward_kernel(float* __restrict__ dx, const float* __restrict__ da, const float* __restrict__ db,
                                                                         int n, int half_inner) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const int at = i + (i / half_inner) * half_inner;
    dx[at] = da != nullptr ? da[i] : 0.0f;
    dx[at + half_inner] = db != nullptr ? db[i] : 0.0f;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL(sum_to_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(broadcast_to_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(copy_axis_slice_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(narrow_backward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(split_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(split_backward_kernel)
#endif

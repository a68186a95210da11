// kernels/common.cuh — device helpers shared by the op families.
#pragma once

// Sum of v over the 32 lanes of a warp; every lane of the warp must call it, and lane 0 gets the total.
__device__ __forceinline__ float warp_reduce_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

// Sum of v over the block; blockDim.x must be a multiple of 32 (<= 1024) and every thread must call it.
// Thread 0 gets the total. `scratch` is a __shared__ float[32] of the caller.
__device__ __forceinline__ float block_reduce_sum(float v, float* scratch) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = warp_reduce_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < (int)(blockDim.x / 32) ? scratch[lane] : 0.0f;
        v = warp_reduce_sum(v);
    }
    return v;
}

// Whether this block is the last of `arrivals` blocks to reach this call with the same `counter` (CUDA's
// threadfence-reduction pattern; how two-level reductions finish in one launch, deterministically): every thread's
// earlier global writes are fenced before thread 0 draws the block's ticket, and the last block fences again before it
// reads what the others wrote (through volatile pointers, so not from a stale read-only cache). The last block resets
// the counter to 0 for the next launch in the stream. Every thread of the block must call it once; the result is
// uniform over the block.
__device__ __forceinline__ bool block_is_last_arrival(unsigned* counter, unsigned arrivals) {
    __shared__ int last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0) {
        last = atomicAdd(counter, 1u) == arrivals - 1u;
        if (last) *counter = 0u;
    }
    __syncthreads();
    if (last) __threadfence();
    return last;
}

// The batch value of a per-item loss, finished in the launch that computed the items, one block per item (the Wiener
// weight, the blur-kernel fit and the KL): each block has written its item's value to per_item[blockIdx.x]; the last
// block to finish (block_is_last_arrival on `counter`) adds per_item[0 .. n) — each thread a strided set in index
// order, then block_reduce_sum's fixed tree — and writes loss[0] = scale · total. No float atomics, and the same bits
// whichever block is last. Every thread of every block (gridDim.x = n) must call it; `scratch` may be the one the
// block's own reduction used (block_is_last_arrival's barriers separate the two).
__device__ __forceinline__ void finish_batch_loss(float* loss, const float* per_item, unsigned* counter, int n, float scale, float* scratch) {
    if (!block_is_last_arrival(counter, gridDim.x)) return;
    const volatile float* items = per_item;
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += items[i];
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) loss[0] = scale * s;
}

// The second level of a column reduction in one launch, for a block of (bx, by) threads with by a power of two:
// thread (x, y) holds `acc`, its part of output o's sum over chunk blockIdx.y of the reduced elements. The by rows are
// added by a fixed tree in `rows` (the caller's __shared__ float[bx·by]); with one chunk row 0 writes y[o], with several
// it writes partial[blockIdx.y·ny + o] and the last of the gridDim.y blocks of column blockIdx.x to finish
// (block_is_last_arrival on counters[blockIdx.x]) adds the chunks in chunk order into y: the same bits whichever block
// arrives last, no float atomics. Every thread of the block must call it.
__device__ __forceinline__ void column_sum_finish(float* y, float* partial, unsigned* counters, float acc, int o, int ny, float* rows) {
    const int t = threadIdx.y * blockDim.x + threadIdx.x;
    rows[t] = acc;
    __syncthreads();
    for (int half = blockDim.y / 2; half > 0; half >>= 1) {
        if ((int)threadIdx.y < half) rows[t] += rows[t + half * blockDim.x];
        __syncthreads();
    }
    const bool writes = threadIdx.y == 0 && o < ny;
    if (gridDim.y == 1) { // uniform over the grid
        if (writes) y[o] = rows[threadIdx.x];
        return;
    }
    if (writes) partial[(long long)blockIdx.y * ny + o] = rows[threadIdx.x];
    if (!block_is_last_arrival(&counters[blockIdx.x], gridDim.y) || !writes) return;
    const volatile float* chunks = partial;
    float total = 0.0f;
    for (int c = 0; c < (int)gridDim.y; ++c) total += chunks[(long long)c * ny + o];
    y[o] = total;
}

// Chan et al.'s pairwise update of per-part statistics: (*mean, *sq) of `seen` values, sq the centred sum of squares,
// merged with a part of `len` > 0 values whose mean and centred sum of squares are part_mean and part_sq (exact for the
// two-pass statistics of the union, up to rounding). Returns seen + len. The one merge rule of the batch statistics
// (batchnorm.cuh's chunks, conv_gemm.cuh's output tiles), applied in a fixed part order so the bits never depend on
// which block finished first.
__device__ __forceinline__ int chan_merge(float* mean, float* sq, int seen, float part_mean, float part_sq, int len) {
    const float delta = part_mean - *mean;
    const int merged = seen + len;
    *mean += delta * ((float)len / (float)merged);
    *sq += part_sq + delta * delta * ((float)seen * (float)len / (float)merged);
    return merged;
}

// n / d for a divisor d fixed over a whole launch, as a multiply-high and a shift instead of a divide instruction
// (Granlund–Montgomery; PyTorch's IntDivider does the same). The launcher precomputes `magic` and `shift`
// (GpuDevice.FastDivider); exact for 0 ≤ n < 2^31 and 1 ≤ d < 2^31.
__device__ __forceinline__ int fast_div(int n, unsigned magic, unsigned shift) {
    const unsigned long long hi = ((unsigned long long)(unsigned)n * magic) >> 32;
    return (int)((hi + (unsigned)n) >> shift);
}

// The flat index idx of a [planes, rows, cols] stack split into (plane, row, col); returns the plane. One rule for
// every kernel that runs one thread per element of an image stack (pool, resize, the blur kernel's OTF embedding).
__device__ __forceinline__ long long plane_row_col(long long idx, int rows, int cols, int* row, int* col) {
    *col = (int)(idx % cols);
    const long long plane_row = idx / cols;
    *row = (int)(plane_row % rows);
    return plane_row / rows;
}

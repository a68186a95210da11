// kernels/softmax.cuh — row-wise softmax over x[rows, cols] (the last axis), as CpuBackend.Softmax.cs.
// Launch (Device/GpuDevice.Softmax.cs): one block per row, grid = rows, blockDim.x a multiple of 32; each thread
// handles a strided slice of the row, so consecutive threads touch consecutive columns.
#pragma once

// The block-wide maximum of v, returned to every thread; same contract as batchnorm_block_sum_all.
__device__ __forceinline__ float softmax_block_max_all(float v, float* scratch, float* result) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < (int)(blockDim.x / 32) ? scratch[lane] : scratch[0];
        for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
        if (lane == 0) *result = v;
    }
    __syncthreads();
    return *result;
}

// The block-wide sum of v, returned to every thread.
__device__ __forceinline__ float softmax_block_sum_all(float v, float* scratch, float* result) {
    v = block_reduce_sum(v, scratch);
    if (threadIdx.x == 0) *result = v;
    __syncthreads();
    return *result;
}

// y = exp(x − max) / Σ exp(x − max) per row; subtracting the row maximum keeps exp from overflowing.
extern "C" __global__ void softmax_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int rows, int cols) {
    __shared__ float scratch[32];
    __shared__ float total;
    const int row = blockIdx.x;
    if (row >= rows) return; // uniform over the block
    const float* xr = x + (long long)row * cols;
    float* yr = y + (long long)row * cols;

    float m = xr[0]; // cols ≥ 1 (the launcher skips empty rows), so no infinity is needed as the identity
    for (int j = threadIdx.x; j < cols; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = softmax_block_max_all(m, scratch, &total);

    float s = 0.0f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        const float e = expf(xr[j] - m);
        yr[j] = e; // each thread reads back only what it wrote itself
        s += e;
    }
    s = softmax_block_sum_all(s, scratch, &total);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = yr[j] / s;
}

// dx = y ⊙ (dy − ⟨dy, y⟩) per row, from the saved output y.
extern "C" __global__ void softmax_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, const float* __restrict__ y,
                                                   int rows, int cols) {
    __shared__ float scratch[32];
    __shared__ float total;
    const int row = blockIdx.x;
    if (row >= rows) return; // uniform over the block
    const long long off = (long long)row * cols;

    float d = 0.0f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) d += dy[off + j] * y[off + j];
    d = softmax_block_sum_all(d, scratch, &total);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) dx[off + j] = (dy[off + j] - d) * y[off + j];
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL(softmax_forward_kernel)
BLURVAE_HOST_KERNEL(softmax_backward_kernel)
#endif

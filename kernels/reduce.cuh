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

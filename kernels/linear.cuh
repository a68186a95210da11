// kernels/linear.cuh — the epilogue of a Linear layer around its cuBLAS GEMMs (IBackend.BiasActivation*,
// CpuBackend.Linear.cs; launchers GpuDevice.Linear.cs): forward y = act(y + bias) in place on the GEMM's output (β = 0),
// one pass; backward the activation's gradient and the bias gradient (its column sum) in one launch.
#pragma once

// The activations a Linear layer fuses: the UnaryOp codes of elementwise.cuh for ReLU, LeakyReLU (alpha ≥ 0) and
// ReLU6, or LINEAR_IDENTITY (bias only).
#define LINEAR_IDENTITY -1

__device__ __forceinline__ float linear_activation(int op, float v, float alpha) {
    switch (op) {
        case UNARY_RELU: return fmaxf(v, 0.0f);
        case UNARY_LEAKY_RELU: return v > 0.0f ? v : alpha * v;
        case UNARY_RELU6: return fminf(fmaxf(v, 0.0f), 6.0f);
        default: return v;
    }
}

// g·act'(pre) read from the output y: with alpha ≥ 0, y > 0 exactly where pre > 0, and 0 < y < 6 exactly where
// 0 < pre < 6, so the forward's input need not be kept (the same branches as unary_backward_kernel takes on pre).
__device__ __forceinline__ float linear_activation_backward(int op, float g, float y, float alpha) {
    switch (op) {
        case UNARY_RELU: return y > 0.0f ? g : 0.0f * g;
        case UNARY_LEAKY_RELU: return y > 0.0f ? g : alpha * g;
        case UNARY_RELU6: return y > 0.0f && y < 6.0f ? g : 0.0f;
        default: return g;
    }
}

// y[r, c] = act(y[r, c] + bias[c]) over y[rows, cols], one thread per element; bias may be null. The column comes from
// a fast_div by cols (magic and shift from the launcher).
extern "C" __global__ void __launch_bounds__(1024) bias_activation_forward_kernel(float* __restrict__ y, const float* __restrict__ bias, int n, int cols,
                                                                                  unsigned col_magic, unsigned col_shift, int op, float alpha) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = y[i];
    if (bias != nullptr) v += bias[i - fast_div(i, col_magic, col_shift) * cols];
    y[i] = linear_activation(op, v, alpha);
}

// d_pre[r, c] = dy[r, c]·act'(pre[r, c]) (from the output y) and d_bias[c] = Σ_r d_pre[r, c] (d_bias may be null: no
// bias gradient). Block (32, by): threadIdx.x one of the block's 32 adjacent columns (a warp reads 32 adjacent
// elements of a row), the rows cut into gridDim.y chunks of `chunk`, row lane threadIdx.y takes every by-th row of the
// block's chunk; column_sum_finish adds the lanes and the chunks (partial, counters: with several chunks), in one
// launch, deterministically.
extern "C" __global__ void __launch_bounds__(1024) bias_activation_backward_kernel(float* __restrict__ d_pre, float* __restrict__ d_bias, float* __restrict__ partial,
                                                                                   unsigned* __restrict__ counters, const float* __restrict__ dy,
                                                                                   const float* __restrict__ y, int rows, int cols, int chunk, int op, float alpha) {
    __shared__ float lanes[1024];
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int begin = blockIdx.y * chunk;
    const int end = min(begin + chunk, rows);
    float acc = 0.0f;
    if (c < cols)
        for (int r = begin + (int)threadIdx.y; r < end; r += blockDim.y) {
            const long long i = (long long)r * cols + c;
            const float g = linear_activation_backward(op, dy[i], y[i], alpha);
            d_pre[i] = g;
            acc += g;
        }
    if (d_bias == nullptr) return; // uniform over the grid
    column_sum_finish(d_bias, partial, counters, acc, c, cols, lanes);
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(bias_activation_forward_kernel)
BLURVAE_HOST_KERNEL(bias_activation_backward_kernel)
#endif

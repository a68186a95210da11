// kernels/batchnorm.cuh — batch normalisation over x viewed as [n, c, spatial], statistics per channel over the
// n·spatial values of that channel, in the arithmetic of CpuBackend.BatchNorm.cs (two-pass variance, running
// statistics with PyTorch's momentum and the unbiased variance). Launch geometry (Device/GpuDevice.BatchNorm.cs):
// training runs two-level, two launches each way, grid (chunks, c) both times (blockDim.x a multiple of 32): each
// channel's M = n·spatial values are cut into `chunks` chunks of `chunk` (the launcher's reduction rule, so that
// c·chunks reaches two waves of SMs); the *_statistics_kernel writes one partial per (channel, chunk), and the
// apply kernel merges its channel's partials in chunk order (deterministic, no atomics) and writes its chunk. When a
// convolution has gathered the statistics already (IBackend's `statistics`, conv_gemm.cuh's epilogue), the forward's
// apply kernel reads them as the one partial of each channel (partial_chunk = n·spatial) and no statistics kernel runs.
// The inference forward is elementwise (grid = CEIL_DIV(n·c·spatial, block)); the inference backward (evaluation
// only) still runs one block per channel (grid = c).
// gamma/beta null mean the identity affine (γ = 1, β = 0); dgamma, dbeta and the running statistics are
// written only when their pointers are non-null.
#pragma once

// The block-wide sum of v, returned to every thread. Every thread must call it; `scratch` is a __shared__ float[32]
// and `result` a __shared__ float of the caller. Calls in a row may share both: the barrier after the broadcast
// orders the reads of one call before the writes of the next.
__device__ __forceinline__ float batchnorm_block_sum_all(float v, float* scratch, float* result) {
    v = block_reduce_sum(v, scratch);
    if (threadIdx.x == 0) *result = v;
    __syncthreads();
    return *result;
}

// Offset of the j-th of the n·spatial values of channel ch: thread-contiguous j stay contiguous within an image.
__device__ __forceinline__ long long batchnorm_offset(int j, int ch, int c, int spatial) {
    const int b = j / spatial;
    return ((long long)b * c + ch) * spatial + (j - b * spatial);
}

// The chunk [begin, end) of channel ch's M = n·spatial values that block (blockIdx.x, ch) owns.
__device__ __forceinline__ void batchnorm_chunk(int count, int chunk, int* begin, int* end) {
    *begin = blockIdx.x * chunk;
    *end = min(*begin + chunk, count);
}

// Forward statistics, first level: block (q, ch) writes its chunk's mean and centred sum of squares (two passes
// over the chunk keep float32 variance accurate) to partial[(ch·chunks + q)·2 + {0, 1}].
extern "C" __global__ void __launch_bounds__(1024) batchnorm_forward_statistics_kernel(float* __restrict__ partial, const float* __restrict__ x,
                                                                                        int n, int c, int spatial, int chunk) {
    __shared__ float scratch[32];
    __shared__ float total;
    const int ch = blockIdx.y;
    int begin, end;
    batchnorm_chunk(n * spatial, chunk, &begin, &end);
    float s = 0.0f;
    for (int j = begin + threadIdx.x; j < end; j += blockDim.x) s += x[batchnorm_offset(j, ch, c, spatial)];
    const float mean = batchnorm_block_sum_all(s, scratch, &total) / (float)max(end - begin, 1);
    float sq = 0.0f;
    for (int j = begin + threadIdx.x; j < end; j += blockDim.x) {
        const float d = x[batchnorm_offset(j, ch, c, spatial)] - mean;
        sq += d * d;
    }
    sq = block_reduce_sum(sq, scratch);
    if (threadIdx.x == 0) {
        float* out = partial + ((long long)ch * gridDim.x + blockIdx.x) * 2;
        out[0] = mean;
        out[1] = sq;
    }
}

// Second level of the forward statistics for channel ch, by every thread alike (the partials are few and read as
// broadcasts): the partials' (mean, centred sum of squares), ⌈count / partial_chunk⌉ of them per channel, each over
// partial_chunk values (the last over the rest), merged in order by chan_merge (common.cuh). Block (0, ch)'s thread 0 writes save_mean,
// save_inv_std = 1/sqrt(var + eps) (biased variance) and, when both running pointers are non-null, running =
// (1 − momentum)·running + momentum·batch (unbiased variance; the launcher rejects M < 2 then, as the CPU backend
// does). Returns the per-channel affine map z = x·scale + shift that normalises and applies γ, β.
__device__ __forceinline__ void batchnorm_channel_statistics(float* save_mean, float* save_inv_std, const float* partial,
                                                             const float* gamma, const float* beta, float* running_mean,
                                                             float* running_var, int ch, int count, int partial_chunk, float eps,
                                                             float momentum, float* scale, float* shift) {
    const int partials = (count + partial_chunk - 1) / partial_chunk;
    const float* p = partial + (long long)ch * partials * 2;
    float mean = 0.0f, sq = 0.0f;
    int seen = 0;
    for (int q = 0; q < partials; q++) seen = chan_merge(&mean, &sq, seen, p[2 * q], p[2 * q + 1], min(partial_chunk, count - q * partial_chunk));
    const float variance = sq / (float)count;
    const float inv_std = 1.0f / sqrtf(variance + eps);
    *scale = gamma == nullptr ? inv_std : gamma[ch] * inv_std;
    *shift = (beta == nullptr ? 0.0f : beta[ch]) - mean * *scale;
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        save_mean[ch] = mean;
        save_inv_std[ch] = inv_std;
        if (running_mean != nullptr && running_var != nullptr) {
            const float unbiased = count > 1 ? sq / (float)(count - 1) : variance;
            running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
            running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * unbiased;
        }
    }
}

// Training forward of block (q, ch)'s chunk: the channel's statistics (batchnorm_channel_statistics, from partials
// over partial_chunk values each), then z = x·scale + shift, written as y = z or, with LEAKY, y = z for z > 0 and
// negative_slope·z otherwise.
template <bool LEAKY>
__device__ __forceinline__ void batchnorm_forward_chunk(float* y, float* save_mean, float* save_inv_std, const float* x, const float* partial,
                                                        const float* gamma, const float* beta, float* running_mean, float* running_var,
                                                        int n, int c, int spatial, int chunk, int partial_chunk, float eps, float momentum, float negative_slope) {
    const int ch = blockIdx.y, count = n * spatial;
    float scale, shift;
    batchnorm_channel_statistics(save_mean, save_inv_std, partial, gamma, beta, running_mean, running_var, ch, count, partial_chunk, eps, momentum, &scale, &shift);
    int begin, end;
    batchnorm_chunk(count, chunk, &begin, &end);
    for (int j = begin + threadIdx.x; j < end; j += blockDim.x) {
        const long long o = batchnorm_offset(j, ch, c, spatial);
        const float z = x[o] * scale + shift;
        y[o] = !LEAKY || z > 0.0f ? z : negative_slope * z;
    }
}

// Training forward, second launch (batchnorm_forward_chunk), after batchnorm_forward_statistics_kernel (partial_chunk
// = chunk), or alone with a convolution's statistics as `partial` (partial_chunk = n·spatial).
extern "C" __global__ void batchnorm_forward_training_kernel(float* __restrict__ y, float* __restrict__ save_mean,
                                                             float* __restrict__ save_inv_std, const float* __restrict__ x,
                                                             const float* __restrict__ partial, const float* __restrict__ gamma,
                                                             const float* __restrict__ beta, float* __restrict__ running_mean,
                                                             float* __restrict__ running_var, int n, int c, int spatial, int chunk,
                                                             int partial_chunk, float eps, float momentum) {
    batchnorm_forward_chunk<false>(y, save_mean, save_inv_std, x, partial, gamma, beta, running_mean, running_var, n, c, spatial, chunk, partial_chunk,
                                   eps, momentum, 0.0f);
}

// Inference forward, one thread per element: y = x·scale + shift from the running statistics.
extern "C" __global__ void batchnorm_forward_inference_kernel(float* __restrict__ y, const float* __restrict__ x,
                                                              const float* __restrict__ running_mean, const float* __restrict__ running_var,
                                                              const float* __restrict__ gamma, const float* __restrict__ beta,
                                                              int n, int c, int spatial, float eps) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)n * c * spatial) return;
    const int ch = (int)((i / spatial) % c);
    const float inv_std = 1.0f / sqrtf(running_var[ch] + eps);
    const float scale = gamma == nullptr ? inv_std : gamma[ch] * inv_std;
    const float shift = (beta == nullptr ? 0.0f : beta[ch]) - running_mean[ch] * scale;
    y[i] = x[i] * scale + shift;
}

// The gradient reaching the normalised value z of a fused BatchNorm → LeakyReLU from the output y = leaky(z):
// z > 0 exactly where y > 0 (the slope is ≥ 0), so the forward's output decides the branch as PyTorch's input does.
__device__ __forceinline__ float leaky_relu_gradient(float dy, float y, float negative_slope) {
    return y > 0.0f ? dy : negative_slope * dy;
}

// Backward statistics, first level: with x̂ = (x − μ)·s, s = save_inv_std, and g the gradient at the normalised
// output (dy, or when y is non-null the LeakyReLU gradient of dy at the fused output y), block (q, ch) writes its
// chunk's Σg and Σg·x̂ to partial[(ch·chunks + q)·2 + {0, 1}].
extern "C" __global__ void batchnorm_backward_statistics_kernel(float* __restrict__ partial, const float* __restrict__ dy,
                                                                const float* __restrict__ y, const float* __restrict__ x,
                                                                const float* __restrict__ save_mean, const float* __restrict__ save_inv_std,
                                                                int n, int c, int spatial, int chunk, float negative_slope) {
    __shared__ float scratch[32];
    __shared__ float total;
    const int ch = blockIdx.y;
    const float mean = save_mean[ch], inv_std = save_inv_std[ch];
    int begin, end;
    batchnorm_chunk(n * spatial, chunk, &begin, &end);
    float sdy = 0.0f, sdyx = 0.0f;
    for (int j = begin + threadIdx.x; j < end; j += blockDim.x) {
        const long long o = batchnorm_offset(j, ch, c, spatial);
        const float g = y != nullptr ? leaky_relu_gradient(dy[o], y[o], negative_slope) : dy[o];
        sdy += g;
        sdyx += g * (x[o] - mean) * inv_std;
    }
    sdy = batchnorm_block_sum_all(sdy, scratch, &total);
    sdyx = block_reduce_sum(sdyx, scratch);
    if (threadIdx.x == 0) {
        float* out = partial + ((long long)ch * gridDim.x + blockIdx.x) * 2;
        out[0] = sdy;
        out[1] = sdyx;
    }
}

// Training backward of block (q, ch)'s chunk: dβ = Σg and dγ = Σg·x̂ from the channel's partials in chunk order
// (block (0, ch) writes them), then dx = γ·s/M · (M·g − dβ − x̂·dγ), g recomputed instead of stored.
template <bool LEAKY>
__device__ __forceinline__ void batchnorm_backward_chunk(float* dx, float* dgamma, float* dbeta, const float* dy, const float* y,
                                                         const float* x, const float* partial, const float* save_mean, const float* save_inv_std,
                                                         const float* gamma, int n, int c, int spatial, int chunk, float negative_slope) {
    const int ch = blockIdx.y, count = n * spatial;
    const float mean = save_mean[ch], inv_std = save_inv_std[ch];
    const float* p = partial + (long long)ch * gridDim.x * 2;
    float sdy = 0.0f, sdyx = 0.0f;
    for (int q = 0; q < (int)gridDim.x; q++) {
        sdy += p[2 * q];
        sdyx += p[2 * q + 1];
    }
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        if (dgamma != nullptr) dgamma[ch] = sdyx;
        if (dbeta != nullptr) dbeta[ch] = sdy;
    }
    const float m = (float)count;
    const float k = (gamma == nullptr ? 1.0f : gamma[ch]) * inv_std / m;
    int begin, end;
    batchnorm_chunk(count, chunk, &begin, &end);
    for (int j = begin + threadIdx.x; j < end; j += blockDim.x) {
        const long long o = batchnorm_offset(j, ch, c, spatial);
        const float g = LEAKY ? leaky_relu_gradient(dy[o], y[o], negative_slope) : dy[o];
        const float xhat = (x[o] - mean) * inv_std;
        dx[o] = k * (m * g - sdy - xhat * sdyx);
    }
}

// Training backward, second launch (batchnorm_backward_chunk), after batchnorm_backward_statistics_kernel with y null.
extern "C" __global__ void batchnorm_backward_kernel(float* __restrict__ dx, float* __restrict__ dgamma, float* __restrict__ dbeta,
                                                     const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ partial,
                                                     const float* __restrict__ save_mean, const float* __restrict__ save_inv_std,
                                                     const float* __restrict__ gamma, int n, int c, int spatial, int chunk) {
    batchnorm_backward_chunk<false>(dx, dgamma, dbeta, dy, nullptr, x, partial, save_mean, save_inv_std, gamma, n, c, spatial, chunk, 0.0f);
}

// ---- BatchNorm → LeakyReLU fused (IBackend.BatchNormLeakyRelu*): the layer pair of architectures A and B -----------
// with the normalised value z never in memory. Launched as the unfused training kernels, after the same statistics kernels.

// y = leaky(x·scale + shift), after batchnorm_forward_statistics_kernel or from a convolution's statistics, as
// batchnorm_forward_training_kernel (saved and running statistics the same).
extern "C" __global__ void batchnorm_leaky_relu_forward_kernel(float* __restrict__ y, float* __restrict__ save_mean,
                                                               float* __restrict__ save_inv_std, const float* __restrict__ x,
                                                               const float* __restrict__ partial, const float* __restrict__ gamma,
                                                               const float* __restrict__ beta, float* __restrict__ running_mean,
                                                               float* __restrict__ running_var, int n, int c, int spatial, int chunk,
                                                               int partial_chunk, float eps, float momentum, float negative_slope) {
    batchnorm_forward_chunk<true>(y, save_mean, save_inv_std, x, partial, gamma, beta, running_mean, running_var, n, c, spatial, chunk, partial_chunk,
                                  eps, momentum, negative_slope);
}

// The LeakyReLU gradient taken from the forward's output y, then the training backward (batchnorm_backward_chunk),
// after batchnorm_backward_statistics_kernel with the same y.
extern "C" __global__ void batchnorm_leaky_relu_backward_kernel(float* __restrict__ dx, float* __restrict__ dgamma, float* __restrict__ dbeta,
                                                                const float* __restrict__ dy, const float* __restrict__ y, const float* __restrict__ x,
                                                                const float* __restrict__ partial, const float* __restrict__ save_mean,
                                                                const float* __restrict__ save_inv_std, const float* __restrict__ gamma,
                                                                int n, int c, int spatial, int chunk, float negative_slope) {
    batchnorm_backward_chunk<true>(dx, dgamma, dbeta, dy, y, x, partial, save_mean, save_inv_std, gamma, n, c, spatial, chunk, negative_slope);
}

// Inference backward, one block per channel: the running statistics are constants, so dx = dy·γ·s, and
// dγ = Σdy·x̂, dβ = Σdy with x̂ = (x − running_mean)·s, s = 1/sqrt(running_var + eps).
extern "C" __global__ void batchnorm_backward_inference_kernel(float* __restrict__ dx, float* __restrict__ dgamma, float* __restrict__ dbeta,
                                                               const float* __restrict__ dy, const float* __restrict__ x,
                                                               const float* __restrict__ running_mean, const float* __restrict__ running_var,
                                                               const float* __restrict__ gamma, int n, int c, int spatial, float eps) {
    __shared__ float scratch[32];
    __shared__ float total;
    const int ch = blockIdx.x;
    if (ch >= c) return; // uniform over the block
    const int count = n * spatial;
    const float mean = running_mean[ch];
    const float inv_std = 1.0f / sqrtf(running_var[ch] + eps);
    const float scale = gamma == nullptr ? inv_std : gamma[ch] * inv_std;

    float sdy = 0.0f, sdyx = 0.0f;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        const long long o = batchnorm_offset(j, ch, c, spatial);
        const float g = dy[o];
        sdy += g;
        sdyx += g * (x[o] - mean) * inv_std;
        dx[o] = g * scale;
    }
    if (dgamma == nullptr && dbeta == nullptr) return; // uniform: nothing left to reduce
    sdy = batchnorm_block_sum_all(sdy, scratch, &total);
    sdyx = batchnorm_block_sum_all(sdyx, scratch, &total);
    if (threadIdx.x == 0) {
        if (dgamma != nullptr) dgamma[ch] = sdyx;
        if (dbeta != nullptr) dbeta[ch] = sdy;
    }
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL(batchnorm_forward_statistics_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(batchnorm_forward_training_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(batchnorm_forward_inference_kernel)
BLURVAE_HOST_KERNEL(batchnorm_backward_statistics_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(batchnorm_backward_kernel)
BLURVAE_HOST_KERNEL(batchnorm_backward_inference_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(batchnorm_leaky_relu_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(batchnorm_leaky_relu_backward_kernel)
#endif

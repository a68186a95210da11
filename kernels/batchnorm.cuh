// kernels/batchnorm.cuh — batch normalisation over x viewed as [n, c, spatial], statistics per channel over the
// n·spatial values of that channel, in the arithmetic of CpuBackend.BatchNorm.cs (two-pass variance, running
// statistics with PyTorch's momentum and the unbiased variance). Launch geometry (Device/GpuDevice.BatchNorm.cs):
// the training forward and both backwards run one block per channel (grid = c, blockDim.x a multiple of 32);
// the inference forward is elementwise (grid = CEIL_DIV(n·c·spatial, block)).
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

// The batch statistics of channel ch, computed by its whole block: the mean, then the centred sum of squares (two
// passes keep float32 variance accurate). Thread 0 writes save_mean and save_inv_std = 1/sqrt(var + eps) (biased
// variance) and, when both running pointers are non-null, running = (1 − momentum)·running + momentum·batch
// (unbiased variance; the launcher rejects n·spatial < 2 in that case, as the CPU backend does). Every thread gets
// the per-channel affine map z = x·scale + shift that normalises and applies γ, β.
__device__ __forceinline__ void batchnorm_channel_statistics(float* save_mean, float* save_inv_std, const float* x,
                                                             const float* gamma, const float* beta, float* running_mean,
                                                             float* running_var, int ch, int n, int c, int spatial, float eps,
                                                             float momentum, float* scale, float* shift) {
    __shared__ float scratch[32];
    __shared__ float total;
    const int count = n * spatial;
    float s = 0.0f;
    for (int j = threadIdx.x; j < count; j += blockDim.x) s += x[batchnorm_offset(j, ch, c, spatial)];
    const float mean = batchnorm_block_sum_all(s, scratch, &total) / (float)count;

    float sq = 0.0f;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        const float d = x[batchnorm_offset(j, ch, c, spatial)] - mean;
        sq += d * d;
    }
    sq = batchnorm_block_sum_all(sq, scratch, &total);
    const float variance = sq / (float)count;
    const float inv_std = 1.0f / sqrtf(variance + eps);
    *scale = gamma == nullptr ? inv_std : gamma[ch] * inv_std;
    *shift = (beta == nullptr ? 0.0f : beta[ch]) - mean * *scale;
    if (threadIdx.x == 0) {
        save_mean[ch] = mean;
        save_inv_std[ch] = inv_std;
        if (running_mean != nullptr && running_var != nullptr) {
            const float unbiased = count > 1 ? sq / (float)(count - 1) : variance;
            running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
            running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * unbiased;
        }
    }
}

// Training forward of channel ch by its whole block: the batch statistics (batchnorm_channel_statistics), then
// z = x·scale + shift, written as y = z or, with LEAKY, y = z for z > 0 and negative_slope·z otherwise.
template <bool LEAKY>
__device__ __forceinline__ void batchnorm_forward_channel(float* y, float* save_mean, float* save_inv_std, const float* x,
                                                          const float* gamma, const float* beta, float* running_mean, float* running_var,
                                                          int ch, int n, int c, int spatial, float eps, float momentum, float negative_slope) {
    float scale, shift;
    batchnorm_channel_statistics(save_mean, save_inv_std, x, gamma, beta, running_mean, running_var, ch, n, c, spatial, eps, momentum, &scale, &shift);
    for (int j = threadIdx.x; j < n * spatial; j += blockDim.x) {
        const long long o = batchnorm_offset(j, ch, c, spatial);
        const float z = x[o] * scale + shift;
        y[o] = !LEAKY || z > 0.0f ? z : negative_slope * z;
    }
}

// Training forward, one block per channel (batchnorm_forward_channel).
extern "C" __global__ void batchnorm_forward_training_kernel(float* __restrict__ y, float* __restrict__ save_mean,
                                                             float* __restrict__ save_inv_std, const float* __restrict__ x,
                                                             const float* __restrict__ gamma, const float* __restrict__ beta,
                                                             float* __restrict__ running_mean, float* __restrict__ running_var,
                                                             int n, int c, int spatial, float eps, float momentum) {
    const int ch = blockIdx.x;
    if (ch >= c) return; // uniform over the block
    batchnorm_forward_channel<false>(y, save_mean, save_inv_std, x, gamma, beta, running_mean, running_var, ch, n, c, spatial, eps, momentum, 0.0f);
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

// Training backward of channel ch by its whole block. With x̂ = (x − μ)·s, s = save_inv_std, M = n·spatial and
// g the gradient at the normalised output (dy, or with LEAKY the LeakyReLU gradient of dy at the output y):
// dβ = Σg, dγ = Σg·x̂, dx = γ·s/M · (M·g − dβ − x̂·dγ). g is recomputed in the second pass instead of stored.
template <bool LEAKY>
__device__ __forceinline__ void batchnorm_backward_channel(float* dx, float* dgamma, float* dbeta, const float* dy, const float* y,
                                                           const float* x, const float* save_mean, const float* save_inv_std,
                                                           const float* gamma, int ch, int n, int c, int spatial, float negative_slope) {
    __shared__ float scratch[32];
    __shared__ float total;
    const int count = n * spatial;
    const float mean = save_mean[ch], inv_std = save_inv_std[ch];

    float sdy = 0.0f, sdyx = 0.0f;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        const long long o = batchnorm_offset(j, ch, c, spatial);
        const float g = LEAKY ? leaky_relu_gradient(dy[o], y[o], negative_slope) : dy[o];
        sdy += g;
        sdyx += g * (x[o] - mean) * inv_std;
    }
    sdy = batchnorm_block_sum_all(sdy, scratch, &total);
    sdyx = batchnorm_block_sum_all(sdyx, scratch, &total);
    if (threadIdx.x == 0) {
        if (dgamma != nullptr) dgamma[ch] = sdyx;
        if (dbeta != nullptr) dbeta[ch] = sdy;
    }

    const float m = (float)count;
    const float k = (gamma == nullptr ? 1.0f : gamma[ch]) * inv_std / m;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        const long long o = batchnorm_offset(j, ch, c, spatial);
        const float g = LEAKY ? leaky_relu_gradient(dy[o], y[o], negative_slope) : dy[o];
        const float xhat = (x[o] - mean) * inv_std;
        dx[o] = k * (m * g - sdy - xhat * sdyx);
    }
}

// Training backward, one block per channel (batchnorm_backward_channel).
extern "C" __global__ void batchnorm_backward_kernel(float* __restrict__ dx, float* __restrict__ dgamma, float* __restrict__ dbeta,
                                                     const float* __restrict__ dy, const float* __restrict__ x,
                                                     const float* __restrict__ save_mean, const float* __restrict__ save_inv_std,
                                                     const float* __restrict__ gamma, int n, int c, int spatial) {
    const int ch = blockIdx.x;
    if (ch >= c) return; // uniform over the block
    batchnorm_backward_channel<false>(dx, dgamma, dbeta, dy, nullptr, x, save_mean, save_inv_std, gamma, ch, n, c, spatial, 0.0f);
}

// ---- BatchNorm → LeakyReLU fused (IBackend.BatchNormLeakyRelu*): the layer pair of architectures A and B -----------
// in one pass each way, so the normalised value z never goes through memory. Launch as the unfused training kernels.

// y = leaky(x·scale + shift) with the batch statistics of batchnorm_forward_training_kernel (saved and running the same).
extern "C" __global__ void batchnorm_leaky_relu_forward_kernel(float* __restrict__ y, float* __restrict__ save_mean,
                                                               float* __restrict__ save_inv_std, const float* __restrict__ x,
                                                               const float* __restrict__ gamma, const float* __restrict__ beta,
                                                               float* __restrict__ running_mean, float* __restrict__ running_var,
                                                               int n, int c, int spatial, float eps, float momentum, float negative_slope) {
    const int ch = blockIdx.x;
    if (ch >= c) return; // uniform over the block
    batchnorm_forward_channel<true>(y, save_mean, save_inv_std, x, gamma, beta, running_mean, running_var, ch, n, c, spatial, eps, momentum, negative_slope);
}

// The LeakyReLU gradient taken from the forward's output y, then the training backward (batchnorm_backward_channel).
extern "C" __global__ void batchnorm_leaky_relu_backward_kernel(float* __restrict__ dx, float* __restrict__ dgamma, float* __restrict__ dbeta,
                                                                const float* __restrict__ dy, const float* __restrict__ y, const float* __restrict__ x,
                                                                const float* __restrict__ save_mean, const float* __restrict__ save_inv_std,
                                                                const float* __restrict__ gamma, int n, int c, int spatial, float negative_slope) {
    const int ch = blockIdx.x;
    if (ch >= c) return; // uniform over the block
    batchnorm_backward_channel<true>(dx, dgamma, dbeta, dy, y, x, save_mean, save_inv_std, gamma, ch, n, c, spatial, negative_slope);
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
BLURVAE_HOST_KERNEL(batchnorm_forward_training_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(batchnorm_forward_inference_kernel)
BLURVAE_HOST_KERNEL(batchnorm_backward_kernel)
BLURVAE_HOST_KERNEL(batchnorm_backward_inference_kernel)
BLURVAE_HOST_KERNEL(batchnorm_leaky_relu_forward_kernel)
BLURVAE_HOST_KERNEL(batchnorm_leaky_relu_backward_kernel)
#endif

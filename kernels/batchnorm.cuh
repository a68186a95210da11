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

// Training forward, one block per channel: mean, then the centred sum of squares (two passes keep float32 variance
// accurate), save_mean and save_inv_std = 1/sqrt(var + eps) (biased variance), y = x·scale + shift, and when both
// running pointers are non-null: running = (1 − momentum)·running + momentum·batch (unbiased variance; the
// launcher rejects n·spatial < 2 in that case, as the CPU backend does).
extern "C" __global__ void batchnorm_forward_training_kernel(float* __restrict__ y, float* __restrict__ save_mean,
                                                             float* __restrict__ save_inv_std, const float* __restrict__ x,
                                                             const float* __restrict__ gamma, const float* __restrict__ beta,
                                                             float* __restrict__ running_mean, float* __restrict__ running_var,
                                                             int n, int c, int spatial, float eps, float momentum) {
    __shared__ float scratch[32];
    __shared__ float total;
    const int ch = blockIdx.x;
    if (ch >= c) return; // uniform over the block
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

    const float scale = gamma == nullptr ? inv_std : gamma[ch] * inv_std;
    const float shift = (beta == nullptr ? 0.0f : beta[ch]) - mean * scale;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        const long long o = batchnorm_offset(j, ch, c, spatial);
        y[o] = x[o] * scale + shift;
    }
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

// Training backward, one block per channel. With x̂ = (x − μ)·s, s = save_inv_std, M = n·spatial:
// dβ = Σdy, dγ = Σdy·x̂, dx = γ·s/M · (M·dy − dβ − x̂·dγ).
extern "C" __global__ void batchnorm_backward_kernel(float* __restrict__ dx, float* __restrict__ dgamma, float* __restrict__ dbeta,
                                                     const float* __restrict__ dy, const float* __restrict__ x,
                                                     const float* __restrict__ save_mean, const float* __restrict__ save_inv_std,
                                                     const float* __restrict__ gamma, int n, int c, int spatial) {
    __shared__ float scratch[32];
    __shared__ float total;
    const int ch = blockIdx.x;
    if (ch >= c) return; // uniform over the block
    const int count = n * spatial;
    const float mean = save_mean[ch], inv_std = save_inv_std[ch];

    float sdy = 0.0f, sdyx = 0.0f;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        const long long o = batchnorm_offset(j, ch, c, spatial);
        const float g = dy[o];
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
        const float xhat = (x[o] - mean) * inv_std;
        dx[o] = k * (m * dy[o] - sdy - xhat * sdyx);
    }
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
#endif

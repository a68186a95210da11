// kernels/optim.cuh — fused optimiser updates. Launch: one thread per parameter, grid = CEIL_DIV(n, block).
#pragma once

// torch.optim.Adam (amsgrad off), in the arithmetic order of CpuBackend.Optim.cs:
//   g += wd·p;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  p −= stepSize · m / (sqrt(v) / sqrtBc2 + eps)
// with stepSize = lr / (1 − β1^t) and sqrtBc2 = sqrt(1 − β2^t) computed on the host in double.
extern "C" __global__ void adam_update_kernel(float* __restrict__ param, float* __restrict__ m, float* __restrict__ v,
                                              const float* __restrict__ grad, int n, float beta1, float beta2, float eps,
                                              float weight_decay, float step_size, float sqrt_bias_correction2) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = grad[i];
    if (weight_decay != 0.0f) g += weight_decay * param[i];
    const float mi = m[i] * beta1 + (1.0f - beta1) * g;
    const float vi = v[i] * beta2 + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float denom = sqrtf(vi) / sqrt_bias_correction2 + eps;
    param[i] -= step_size * (mi / denom);
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(adam_update_kernel)
#endif

// torch.optim.SGD, in the order of CpuBackend.Optim.cs:
//   d = g + wd·p;  with momentum: buf = d at the first step, else momentum·buf + (1 − dampening)·d; d = buf;  p −= lr·d
// momentum_buf may be null (no momentum buffer); it is also left untouched when momentum is 0, as on the CPU.
extern "C" __global__ void sgd_update_kernel(float* __restrict__ param, float* __restrict__ momentum_buf, const float* __restrict__ grad, int n,
                                             float lr, float momentum, float dampening, float weight_decay, int first_step) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float d = grad[i];
    if (weight_decay != 0.0f) d += weight_decay * param[i];
    if (momentum_buf != nullptr && momentum != 0.0f) {
        d = first_step ? d : momentum * momentum_buf[i] + (1.0f - dampening) * d;
        momentum_buf[i] = d;
    }
    param[i] -= lr * d;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(sgd_update_kernel)
#endif

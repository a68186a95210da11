// kernels/optim.cuh — fused optimiser updates. Launch: one thread per parameter, grid = CEIL_DIV(n, block)
// (GpuDevice.Optim.cs, GpuDevice.Sgd.cs).
#pragma once

// torch.optim.Adam (amsgrad off) on element i, in the arithmetic order of CpuBackend.Optim.cs:
//   g += wd·p;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  p −= stepSize · m / (sqrt(v) / sqrtBc2 + eps)
// with stepSize = lr / (1 − β1^t) and sqrtBc2 = sqrt(1 − β2^t) computed in double and rounded once.
__device__ __forceinline__ void adam_element(float* param, float* m, float* v, const float* grad, int i, float beta1, float beta2,
                                             float eps, float weight_decay, float step_size, float sqrt_bias_correction2) {
    float g = grad[i];
    if (weight_decay != 0.0f) g += weight_decay * param[i];
    const float mi = m[i] * beta1 + (1.0f - beta1) * g;
    const float vi = v[i] * beta2 + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float denom = sqrtf(vi) / sqrt_bias_correction2 + eps;
    param[i] -= step_size * (mi / denom);
}

// One tensor, with the bias corrections computed on the host: one thread per parameter.
extern "C" __global__ void adam_update_kernel(float* __restrict__ param, float* __restrict__ m, float* __restrict__ v,
                                              const float* __restrict__ grad, int n, float beta1, float beta2, float eps,
                                              float weight_decay, float step_size, float sqrt_bias_correction2) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    adam_element(param, m, v, grad, i, beta1, beta2, eps, weight_decay, step_size, sqrt_bias_correction2);
}

// ---- one Adam step for a whole parameter group (IBackend.AdamStepGroup) ------------------------------------------------
// β^t for an integer t ≥ 1 by binary exponentiation in double: a few correctly rounded multiplies, no call into a
// math library (a pow() call would make NVRTC's PTX differ from compile to compile by its call-sequence numbers).
// Within a few double ulps of the host's Math.Pow, far below the float rounding the result gets.
__device__ __forceinline__ double adam_power(double beta, int t) {
    double r = 1.0;
    for (; t > 0; t >>= 1) {
        if (t & 1) r *= beta;
        beta *= beta;
    }
    return r;
}

// The tensors of one launch of adam_multi_tensor_kernel, passed by value in the kernel's parameters, as PyTorch's
// multi_tensor_apply does: nothing lives in device memory, so nothing is uploaded when the gradients come back from
// the caching allocator at new addresses, step after step. 48 tensors take 4·48 addresses + 49 offsets + a count =
// 1736 bytes, inside the 4096 bytes of parameters every CUDA version accepts (12.1 raised it to 32764 on Volta and
// newer); a larger group is split into several launches (GpuDevice.Optim.cs). The C# launcher writes this layout
// byte for byte (Device/TensorList.cs); the launch's size check against sizeof(adam_tensor_list) keeps the two in step.
#define ADAM_LIST_TENSORS 48
struct adam_tensor_list {
    float* param[ADAM_LIST_TENSORS];
    const float* grad[ADAM_LIST_TENSORS];
    float* m[ADAM_LIST_TENSORS];
    float* v[ADAM_LIST_TENSORS];
    int offset[ADAM_LIST_TENSORS + 1]; // element offsets of the tensors in this launch's concatenation; offset[tensors] = its total
    int tensors;
};

// Every element of the list's tensors, a grid-stride loop over their concatenation. state[0] is the group's step
// count of the last step (an integer held exactly in a float up to 2^24), kept on the device so that no
// step-dependent value comes from the host, and advanced in this same launch: thread 0 of every block reads it and
// computes t = state[0] + 1, stepSize = lr / (1 − β1^t) and sqrtBc2 = sqrt(1 − β2^t) in double from double
// hyper-parameters, rounded once, as the CPU backend does; with `advance` (the last launch of a group split into
// several), the last block to finish (block_is_last_arrival: every block has read the count by then) stores t.
// One launch per step, and a CUDA graph's replays advance the count as the eager steps do.
// A thread finds its tensor by binary search over the offsets (log2(tensors) reads of the parameter bank, the same for
// nearly every thread of a block).
extern "C" __global__ void __launch_bounds__(1024) adam_multi_tensor_kernel(adam_tensor_list list, float* __restrict__ state, unsigned* __restrict__ counter,
                                                                            int advance, double lr, double beta1_t, double beta2_t, float beta1,
                                                                            float beta2, float eps, float weight_decay) {
    __shared__ float corrections[2]; // stepSize, sqrtBc2
    if (threadIdx.x == 0) {
        const int t = (int)state[0] + 1;
        corrections[0] = (float)(lr / (1.0 - adam_power(beta1_t, t)));
        corrections[1] = (float)sqrt(1.0 - adam_power(beta2_t, t));
    }
    __syncthreads();
    const float step_size = corrections[0], sqrt_bias_correction2 = corrections[1];
    const int total = list.offset[list.tensors];
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        int lo = 0, hi = list.tensors - 1;
        while (lo < hi) {
            const int mid = (lo + hi + 1) / 2;
            if (list.offset[mid] <= i) lo = mid; else hi = mid - 1;
        }
        const int j = i - list.offset[lo];
        adam_element(list.param[lo], list.m[lo], list.v[lo], list.grad[lo], j, beta1, beta2, eps, weight_decay, step_size, sqrt_bias_correction2);
    }
    if (!advance) return; // uniform over the grid
    if (block_is_last_arrival(counter, gridDim.x) && threadIdx.x == 0) state[0] += 1.0f;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(adam_update_kernel)
BLURVAE_HOST_KERNEL(adam_multi_tensor_kernel)
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

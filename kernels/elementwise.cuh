// kernels/elementwise.cuh — elementwise activations, forward and backward side by side.
// Launch: one thread per element, grid = CEIL_DIV(n, block) (BlurVae.Kernels/Emulated/EmulatedDevice.Elementwise.cs).
#pragma once

// y = x for x > 0, alpha·x otherwise (CpuBackend UnaryOp.LeakyRelu).
extern "C" __global__ void leaky_relu_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int n, float alpha) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float v = x[i];
    y[i] = v > 0.0f ? v : alpha * v;
}

// dx = dy where x > 0, alpha·dy otherwise.
extern "C" __global__ void leaky_relu_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, const float* __restrict__ x, int n, float alpha) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(leaky_relu_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(leaky_relu_backward_kernel)
#endif

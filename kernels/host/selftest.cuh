// kernels/host/selftest.cuh — kernels that test the host emulation itself (tests/BlurVae.Tests/Parity/EmulatorTests.cs).
// Host build only: kernels.cu includes this file under BLURVAE_HOST_EMULATION, so none of it reaches NVRTC.
#pragma once

// Threads with odd threadIdx.x pass one more __syncthreads than the others: must be reported, not hang.
extern "C" __global__ void emu_barrier_mismatch_kernel(float* y) {
    __syncthreads();
    if (threadIdx.x % 2 == 1) __syncthreads();
    y[threadIdx.x] = 1.0f;
}

// Only lane 0 of each warp shuffles: must be reported as a shuffle mismatch.
extern "C" __global__ void emu_shuffle_mismatch_kernel(float* y) {
    float v = (float)threadIdx.x;
    if (threadIdx.x % 32 == 0) v = __shfl_down_sync(0xffffffffu, v, 1);
    y[threadIdx.x] = v;
}

// Every lane shuffles with the mask `mask`: a lane outside it must fail the launch (ShuffleMaskExcludesLane).
extern "C" __global__ void emu_shuffle_mask_kernel(float* y, unsigned mask) {
    y[threadIdx.x] = __shfl_down_sync(mask, (float)threadIdx.x, 1);
}

// Four ints per thread: shfl_down(delta), shfl_xor(lane_mask), shfl_up(delta), shfl(src_lane), all over segments of `width` lanes.
// The value shuffled is 1000·blockIdx.x + threadIdx.x.
extern "C" __global__ void emu_shuffle_kernel(int* out, int delta, int lane_mask, int src_lane, int width) {
    const int t = blockIdx.x * blockDim.x + threadIdx.x;
    const int v = 1000 * (int)blockIdx.x + (int)threadIdx.x;
    out[4 * t + 0] = __shfl_down_sync(0xffffffffu, v, delta, width);
    out[4 * t + 1] = __shfl_xor_sync(0xffffffffu, v, lane_mask, width);
    out[4 * t + 2] = __shfl_up_sync(0xffffffffu, v, delta, width);
    out[4 * t + 3] = __shfl_sync(0xffffffffu, v, src_lane, width);
}

// Reverses each block's slice through shared memory: correct only if __syncthreads really waits for all writes.
extern "C" __global__ void emu_shared_reverse_kernel(float* y, const float* x) {
    __shared__ float tile[1024];
    const int base = blockIdx.x * blockDim.x;
    tile[threadIdx.x] = x[base + threadIdx.x];
    __syncthreads();
    y[base + threadIdx.x] = tile[blockDim.x - 1 - threadIdx.x];
}

// Every thread of every block adds 1 to counter[0] and its threadIdx.y·blockDim.x + threadIdx.x to counter[1].
extern "C" __global__ void emu_atomic_add_kernel(float* counter) {
    atomicAdd(&counter[0], 1.0f);
    atomicAdd(&counter[1], (float)(threadIdx.y * blockDim.x + threadIdx.x));
}

// Registered as barrier-free but calls __syncthreads: the registration lie must be reported.
extern "C" __global__ void emu_sync_in_plain_kernel(float* y) {
    __syncthreads();
    y[threadIdx.x] = 1.0f;
}

BLURVAE_HOST_KERNEL(emu_barrier_mismatch_kernel)
BLURVAE_HOST_KERNEL(emu_shuffle_mismatch_kernel)
BLURVAE_HOST_KERNEL(emu_shuffle_kernel)
BLURVAE_HOST_KERNEL(emu_shuffle_mask_kernel)
BLURVAE_HOST_KERNEL(emu_shared_reverse_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(emu_atomic_add_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(emu_sync_in_plain_kernel)

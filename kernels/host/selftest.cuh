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

// One 16 × 16 tile per warp: d = alpha · (a · b) + c0 with a [16 × 16] and b [16 × 16] (two k-steps of 8), each
// stored row- or column-major with leading dimension 16 + 4 (warp w reads a + w·320, b + w·320, writes d + w·320);
// round = 1 rounds the fragments with __float_to_tf32 first (elementwise over num_elements, the only allowed access).
extern "C" __global__ void emu_wmma_kernel(float* d, const float* a, const float* b, float c0, float alpha,
                                           int a_col_major, int b_col_major, int d_col_major, int round) {
    using namespace nvcuda;
    const int warp = threadIdx.x / 32, ld = 20, tile = 16 * ld;
    a += warp * tile; b += warp * tile; d += warp * tile;
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc;
    wmma::fill_fragment(acc, c0);
    for (int k = 0; k < 16; k += 8) {
        wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> ar;
        wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major> ac;
        wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> br;
        wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major> bc;
        wmma::load_matrix_sync(ar, a + k, ld);
        wmma::load_matrix_sync(ac, a + k * ld, ld);
        wmma::load_matrix_sync(br, b + k * ld, ld);
        wmma::load_matrix_sync(bc, b + k, ld);
        if (round) {
            for (int i = 0; i < ar.num_elements; i++) { ar.x[i] = wmma::__float_to_tf32(ar.x[i]); ac.x[i] = wmma::__float_to_tf32(ac.x[i]); }
            for (int i = 0; i < br.num_elements; i++) { br.x[i] = wmma::__float_to_tf32(br.x[i]); bc.x[i] = wmma::__float_to_tf32(bc.x[i]); }
        }
        if (a_col_major && b_col_major) wmma::mma_sync(acc, ac, bc, acc);
        else if (a_col_major) wmma::mma_sync(acc, ac, br, acc);
        else if (b_col_major) wmma::mma_sync(acc, ar, bc, acc);
        else wmma::mma_sync(acc, ar, br, acc);
    }
    for (int i = 0; i < acc.num_elements; i++) acc.x[i] = alpha * (acc.x[i] - c0) + c0;
    wmma::store_matrix_sync(d, acc, ld, d_col_major ? wmma::mem_col_major : wmma::mem_row_major);
}

// y[i] = __float_to_tf32(x[i]).
extern "C" __global__ void emu_float_to_tf32_kernel(float* y, const float* x, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = nvcuda::wmma::__float_to_tf32(x[i]);
}

BLURVAE_HOST_KERNEL(emu_barrier_mismatch_kernel)
BLURVAE_HOST_KERNEL(emu_shuffle_mismatch_kernel)
BLURVAE_HOST_KERNEL(emu_shuffle_kernel)
BLURVAE_HOST_KERNEL(emu_shuffle_mask_kernel)
BLURVAE_HOST_KERNEL(emu_shared_reverse_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(emu_atomic_add_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(emu_sync_in_plain_kernel)
BLURVAE_HOST_KERNEL(emu_wmma_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(emu_float_to_tf32_kernel)

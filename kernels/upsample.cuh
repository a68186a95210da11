// kernels/upsample.cuh — bilinear 2× upsampling [planes, h, w] → [planes, 2h, 2w] with align_corners = false,
// as CpuBackend.Upsample.cs (PyTorch's nn.Upsample(scale_factor=2, mode="bilinear")).
// Launch (Device/GpuDevice.Upsample.cs): one thread per element of the output (forward) or of the input (backward),
// grid = CEIL_DIV(count, block). The backward gathers instead of scattering, so it needs no atomics and every
// dx element is summed in a fixed order: deterministic.
#pragma once

// Output coordinate o of an axis of input length len reads source (o + 0.5)/2 − 0.5, clamped at 0, between
// i0 = min(⌊src⌋, len − 1) and i1 = min(i0 + 1, len − 1) with weights (1 − w1, w1). All values are multiples of
// 1/4, so float computes them exactly, as the CPU backend does in double.
__device__ __forceinline__ void upsample_tap(int o, int len, int* i0, int* i1, float* w0, float* w1) {
    const float src = fmaxf(0.0f, ((float)o + 0.5f) * 0.5f - 0.5f);
    const int a = min((int)src, len - 1);
    *i0 = a;
    *i1 = min(a + 1, len - 1);
    *w1 = src - (float)a;
    *w0 = 1.0f - *w1;
}

extern "C" __global__ void upsample_bilinear2x_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int planes, int h, int w) {
    const int oh = 2 * h, ow = 2 * w;
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)planes * oh * ow) return;
    const int c = (int)(i % ow);
    const long long pr = i / ow;
    const int r = (int)(pr % oh);
    const long long p = pr / oh;
    int r0, r1, c0, c1;
    float a0, a1, b0, b1;
    upsample_tap(r, h, &r0, &r1, &a0, &a1);
    upsample_tap(c, w, &c0, &c1, &b0, &b1);
    const float* src = x + p * h * w;
    y[i] = a0 * (b0 * src[r0 * w + c0] + b1 * src[r0 * w + c1]) + a1 * (b0 * src[r1 * w + c0] + b1 * src[r1 * w + c1]);
}

// dx[p, i, j] = Σ over the outputs (r, c) that read it of weight_r(i)·weight_c(j)·dy[p, r, c]. Input row i is read
// only by output rows 2i − 1 … 2i + 2 (and likewise for columns), so each thread gathers at most 4×4 values.
// A clamped tap that reads i through both i0 and i1 adds both weights.
extern "C" __global__ void upsample_bilinear2x_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, int planes, int h, int w) {
    const int oh = 2 * h, ow = 2 * w;
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)planes * h * w) return;
    const int j = (int)(idx % w);
    const long long pi = idx / w;
    const int i = (int)(pi % h);
    const long long p = pi / h;
    const float* g = dy + p * oh * ow;

    // Column weights once: the same four columns serve every row.
    float wc[4];
    for (int k = 0; k < 4; k++) {
        const int c = 2 * j - 1 + k;
        wc[k] = 0.0f;
        if (c < 0 || c >= ow) continue;
        int c0, c1;
        float b0, b1;
        upsample_tap(c, w, &c0, &c1, &b0, &b1);
        if (c0 == j) wc[k] += b0;
        if (c1 == j) wc[k] += b1;
    }

    float acc = 0.0f;
    for (int k = 0; k < 4; k++) {
        const int r = 2 * i - 1 + k;
        if (r < 0 || r >= oh) continue;
        int r0, r1;
        float a0, a1;
        upsample_tap(r, h, &r0, &r1, &a0, &a1);
        const float wr = (r0 == i ? a0 : 0.0f) + (r1 == i ? a1 : 0.0f);
        if (wr == 0.0f) continue;
        for (int q = 0; q < 4; q++) {
            const int c = 2 * j - 1 + q;
            if (wc[q] != 0.0f) acc += wr * wc[q] * g[(long long)r * ow + c];
        }
    }
    dx[idx] = acc;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(upsample_bilinear2x_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(upsample_bilinear2x_backward_kernel)
#endif

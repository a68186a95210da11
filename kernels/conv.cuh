// kernels/conv.cuh — 2-D convolution (CpuBackend.Conv.cs), forward and backward side by side.
//
// Layouts: x[N, Cin, H, W], w[Cout, Cin, KH, KW], y[N, Cout, OH, OW], stride s, zero padding p on every side,
// y[n, co, oh, ow] = Σ_{ci, kh, kw} w[co, ci, kh, kw] · x[n, ci, oh·s − p + kh, ow·s − p + kw] (+ bias[co]).
//
// The forward pass and both weight-side gradients are one matrix product each, C[M, P] = A[M, K] · B[K, P], whose
// operands are gathered from the tensors on the fly (implicit GEMM: no im2col buffer):
//   forward          C = y       M = Cout, P = N·OH·OW,  K = Cin·KH·KW   A = w,        B = im2col(x)
//   backward input   C = dx      M = Cin,  P = N·H·W,    K = Cout·KH·KW  A = wᵀ,       B = the dy that touch each pixel
//   backward weight  C = dw      M = Cout, P = Cin·KH·KW, K = N·OH·OW    A = dy,       B = im2col(x)ᵀ
// Each block computes one CONV_TILE × CONV_TILE tile of C (grid = (CEIL_DIV(P, 32), CEIL_DIV(M, 32))): per step of
// the K-loop it stages a CONV_TILE_K-deep slice of A and B in shared memory, and each thread accumulates a
// (32 / blockDim.y) × (32 / blockDim.x) register sub-tile (rows strided by blockDim.y, columns by blockDim.x, so
// neighbouring threads write neighbouring columns). blockDim.x and blockDim.y must each be 8, 16 or 32.
// The launchers are in BlurVae.Kernels/Device/GpuDevice.Conv.cs.
#pragma once

#define CONV_TILE 32
#define CONV_TILE_K 16
#define CONV_MAX_PER_THREAD 4 // CONV_TILE / the smallest block side (8)

// g++ warns about (and -Werror rejects) the CUDA-only unroll pragma, so the host build drops it.
#ifdef BLURVAE_HOST_EMULATION
#define CONV_UNROLL
#else
#define CONV_UNROLL _Pragma("unroll")
#endif

#define CONV_MODE_FORWARD 0
#define CONV_MODE_BACKWARD_INPUT 1
#define CONV_MODE_BACKWARD_WEIGHT 2

struct ConvDims {
    int n, cin, h, w, cout, kh, kw, stride, pad, oh, ow;
};

// A[m, k] of the implicit GEMM of MODE, 0 outside [M) × [K).
template <int MODE>
__device__ __forceinline__ float conv_gemm_a(const float* __restrict__ a, const ConvDims& d, int m, int k, int M, int K) {
    if (m >= M || k >= K) return 0.0f;
    if (MODE == CONV_MODE_FORWARD) return a[m * K + k]; // w[co, (ci, kh, kw)]
    const int kk = d.kh * d.kw;
    if (MODE == CONV_MODE_BACKWARD_INPUT) { // w[co, ci, r] with m = ci, k = (co, r)
        const int co = k / kk, r = k - co * kk;
        return a[(co * d.cin + m) * kk + r];
    }
    // backward weight: dy[n, co, s] with m = co, k = (n, s)
    const int spatial = d.oh * d.ow, n = k / spatial, s = k - n * spatial;
    return a[(n * d.cout + m) * spatial + s];
}

// x[n, ci, oh·s − p + i, ow·s − p + j], 0 in the padding.
__device__ __forceinline__ float conv_gather_x(const float* __restrict__ x, const ConvDims& d, int n, int ci, int oh, int ow, int i, int j) {
    const int ih = oh * d.stride - d.pad + i, iw = ow * d.stride - d.pad + j;
    if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) return 0.0f;
    return x[((n * d.cin + ci) * d.h + ih) * d.w + iw];
}

// B[k, c] of the implicit GEMM of MODE, 0 outside [K) × [P).
template <int MODE>
__device__ __forceinline__ float conv_gemm_b(const float* __restrict__ b, const ConvDims& d, int k, int c, int K, int P) {
    if (k >= K || c >= P) return 0.0f;
    const int kk = d.kh * d.kw;
    if (MODE == CONV_MODE_FORWARD) { // k = (ci, i, j), c = (n, oh, ow)
        const int spatial = d.oh * d.ow, n = c / spatial, s = c - n * spatial;
        const int ci = k / kk, r = k - ci * kk;
        return conv_gather_x(b, d, n, ci, s / d.ow, s % d.ow, r / d.kw, r % d.kw);
    }
    if (MODE == CONV_MODE_BACKWARD_WEIGHT) { // k = (n, oh, ow), c = (ci, i, j)
        const int spatial = d.oh * d.ow, n = k / spatial, s = k - n * spatial;
        const int ci = c / kk, r = c - ci * kk;
        return conv_gather_x(b, d, n, ci, s / d.ow, s % d.ow, r / d.kw, r % d.kw);
    }
    // backward input: k = (co, i, j), c = (n, ih, iw); the output pixel that read x[ih, iw] through tap (i, j) is
    // oh = (ih + p − i) / s, if that division is exact and lands inside the output.
    const int plane = d.h * d.w, n = c / plane, q = c - n * plane, ih = q / d.w, iw = q - ih * d.w;
    const int co = k / kk, r = k - co * kk, i = r / d.kw, j = r - i * d.kw;
    const int th = ih + d.pad - i, tw = iw + d.pad - j;
    if (th < 0 || tw < 0 || th % d.stride != 0 || tw % d.stride != 0) return 0.0f;
    const int oh = th / d.stride, ow = tw / d.stride;
    if (oh >= d.oh || ow >= d.ow) return 0.0f;
    return b[((n * d.cout + co) * d.oh + oh) * d.ow + ow];
}

// Writes C[m, c] (+ bias[m] in the forward pass) to its place in the output tensor of MODE.
template <int MODE>
__device__ __forceinline__ void conv_gemm_store(float* __restrict__ out, const float* __restrict__ bias, const ConvDims& d, int m, int c, int P, float v) {
    if (MODE == CONV_MODE_FORWARD) { // y[n, co, s]
        const int spatial = d.oh * d.ow, n = c / spatial, s = c - n * spatial;
        out[(n * d.cout + m) * spatial + s] = bias != nullptr ? v + bias[m] : v;
    } else if (MODE == CONV_MODE_BACKWARD_INPUT) { // dx[n, ci, q]
        const int plane = d.h * d.w, n = c / plane, q = c - n * plane;
        out[(n * d.cin + m) * plane + q] = v;
    } else { // dw[co, (ci, i, j)]
        out[m * P + c] = v;
    }
}

// The tiled implicit GEMM shared by the three kernels; every thread of the block must call it (barriers inside).
template <int MODE>
__device__ __forceinline__ void conv_gemm_tile(float* __restrict__ out, const float* __restrict__ a, const float* __restrict__ b,
                                               const float* __restrict__ bias, const ConvDims& d, int M, int P, int K) {
    // As is stored k-major (As[k][m]) so that the inner loop reads a row of it; the +1 column keeps the k-fastest
    // stores into it free of bank conflicts.
    __shared__ float As[CONV_TILE_K][CONV_TILE + 1];
    __shared__ float Bs[CONV_TILE_K][CONV_TILE];
    const int bx = blockDim.x, by = blockDim.y, tid = threadIdx.y * bx + threadIdx.x, threads = bx * by;
    const int m0 = blockIdx.y * CONV_TILE, c0 = blockIdx.x * CONV_TILE;
    const int rows = CONV_TILE / by, cols = CONV_TILE / bx;
    float acc[CONV_MAX_PER_THREAD][CONV_MAX_PER_THREAD];
CONV_UNROLL
    for (int i = 0; i < CONV_MAX_PER_THREAD; i++)
CONV_UNROLL
        for (int j = 0; j < CONV_MAX_PER_THREAD; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += CONV_TILE_K) {
        // k fastest for A (contiguous in w and dy), c fastest for B (contiguous output pixels in x / dy).
        for (int e = tid; e < CONV_TILE * CONV_TILE_K; e += threads) {
            const int kk = e % CONV_TILE_K, mm = e / CONV_TILE_K;
            As[kk][mm] = conv_gemm_a<MODE>(a, d, m0 + mm, k0 + kk, M, K);
        }
        for (int e = tid; e < CONV_TILE * CONV_TILE_K; e += threads) {
            const int cc = e % CONV_TILE, kk = e / CONV_TILE;
            Bs[kk][cc] = conv_gemm_b<MODE>(b, d, k0 + kk, c0 + cc, K, P);
        }
        __syncthreads();
CONV_UNROLL
        for (int kk = 0; kk < CONV_TILE_K; kk++) {
            float av[CONV_MAX_PER_THREAD], bv[CONV_MAX_PER_THREAD];
CONV_UNROLL
            for (int i = 0; i < CONV_MAX_PER_THREAD; i++) av[i] = i < rows ? As[kk][threadIdx.y + i * by] : 0.0f;
CONV_UNROLL
            for (int j = 0; j < CONV_MAX_PER_THREAD; j++) bv[j] = j < cols ? Bs[kk][threadIdx.x + j * bx] : 0.0f;
CONV_UNROLL
            for (int i = 0; i < CONV_MAX_PER_THREAD; i++)
CONV_UNROLL
                for (int j = 0; j < CONV_MAX_PER_THREAD; j++) acc[i][j] += av[i] * bv[j];
        }
        __syncthreads(); // the tiles are overwritten by the next step
    }
CONV_UNROLL
    for (int i = 0; i < CONV_MAX_PER_THREAD; i++) {
        const int m = m0 + threadIdx.y + i * by;
        if (i >= rows || m >= M) continue;
CONV_UNROLL
        for (int j = 0; j < CONV_MAX_PER_THREAD; j++) {
            const int c = c0 + threadIdx.x + j * bx;
            if (j < cols && c < P) conv_gemm_store<MODE>(out, bias, d, m, c, P, acc[i][j]);
        }
    }
}

__device__ __forceinline__ ConvDims conv_dims(int n, int cin, int h, int w, int cout, int kh, int kw, int stride, int pad, int oh, int ow) {
    ConvDims d;
    d.n = n; d.cin = cin; d.h = h; d.w = w; d.cout = cout; d.kh = kh; d.kw = kw; d.stride = stride; d.pad = pad; d.oh = oh; d.ow = ow;
    return d;
}

// y = conv(x, w) + bias (bias may be null: no bias). Grid (CEIL_DIV(N·OH·OW, 32), CEIL_DIV(Cout, 32)).
extern "C" __global__ void conv2d_forward_kernel(float* __restrict__ y, const float* __restrict__ x, const float* __restrict__ w,
                                                 const float* __restrict__ bias, int n, int cin, int h, int wd, int cout,
                                                 int kh, int kw, int stride, int pad, int oh, int ow) {
    const ConvDims d = conv_dims(n, cin, h, wd, cout, kh, kw, stride, pad, oh, ow);
    conv_gemm_tile<CONV_MODE_FORWARD>(y, w, x, bias, d, cout, n * oh * ow, cin * kh * kw);
}

// dx = the transposed convolution of dy with w (overwrites dx). Grid (CEIL_DIV(N·H·W, 32), CEIL_DIV(Cin, 32)).
extern "C" __global__ void conv2d_backward_input_kernel(float* __restrict__ dx, const float* __restrict__ dy, const float* __restrict__ w,
                                                        int n, int cin, int h, int wd, int cout, int kh, int kw, int stride, int pad,
                                                        int oh, int ow) {
    const ConvDims d = conv_dims(n, cin, h, wd, cout, kh, kw, stride, pad, oh, ow);
    conv_gemm_tile<CONV_MODE_BACKWARD_INPUT>(dx, w, dy, nullptr, d, cin, n * h * wd, cout * kh * kw);
}

// dw[co, ci, i, j] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, ci, oh·s − p + i, ow·s − p + j] (overwrites dw).
// Grid (CEIL_DIV(Cin·KH·KW, 32), CEIL_DIV(Cout, 32)).
extern "C" __global__ void conv2d_backward_weight_kernel(float* __restrict__ dw, const float* __restrict__ dy, const float* __restrict__ x,
                                                         int n, int cin, int h, int wd, int cout, int kh, int kw, int stride, int pad,
                                                         int oh, int ow) {
    const ConvDims d = conv_dims(n, cin, h, wd, cout, kh, kw, stride, pad, oh, ow);
    conv_gemm_tile<CONV_MODE_BACKWARD_WEIGHT>(dw, dy, x, nullptr, d, cout, cin * kh * kw, n * oh * ow);
}

// db[co] = Σ_{n, s} dy[n, co, s] for dy[N, Cout, spatial]: one block per channel (grid = Cout), blockDim.x a
// multiple of 32; each thread walks a strided slice of every image's plane, then the block reduces.
extern "C" __global__ void conv2d_backward_bias_kernel(float* __restrict__ db, const float* __restrict__ dy, int n, int cout, int spatial) {
    __shared__ float scratch[32];
    const int co = blockIdx.x;
    if (co >= cout) return; // uniform over the block
    float s = 0.0f;
    for (int i = 0; i < n; i++) {
        const float* plane = dy + (i * cout + co) * spatial;
        for (int q = threadIdx.x; q < spatial; q += blockDim.x) s += plane[q];
    }
    s = block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) db[co] = s;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL(conv2d_forward_kernel)
BLURVAE_HOST_KERNEL(conv2d_backward_input_kernel)
BLURVAE_HOST_KERNEL(conv2d_backward_weight_kernel)
BLURVAE_HOST_KERNEL(conv2d_backward_bias_kernel)
#endif

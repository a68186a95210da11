// kernels/conv.cuh — 2-D convolution (CpuBackend.Conv.cs), forward and backward side by side.
//
// Layouts: x[N, Cin, H, W], w[Cout, Cin, KH, KW], y[N, Cout, OH, OW], strides (sh, sw), zero padding (ph, pw) per axis,
// y[n, co, oh, ow] = Σ_{ci, kh, kw} w[co, ci, kh, kw] · x[n, ci, oh·sh − ph + kh, ow·sw − pw + kw] (+ bias[co]).
// ConvTranspose2d runs on the same kernels (its forward is the backward input, its backward input the forward).
//
// Every pass is an implicit GEMM (conv_gemm.cuh explains the design), compiled for a few tile shapes and two maths:
//   fp32  SIMT FP32 FMA (--precision fp32: strict, like PyTorch with allow_tf32 = False)
//   tf32  tensor cores through WMMA m16n16k8, FP32 accumulation (the default on GPUs, like PyTorch's conv default)
// and tiles
//   128x64  BM × BN = 128 × 64: the big layers (8 × 8 FP32 accumulators per SIMT thread; 2 × 2 fragments per warp)
//   16x128  thin M: 3 output channels (the image head), 1 input channel of a backward input, …
//   64x32   small M or P: the weight gradient of a 3-channel input (P = Cin·k² = 27), small late layers
// The launcher (BlurVae.Kernels/Device/GpuDevice.Conv.cs, ConvPlanner.cs) picks tile, maths and split-K per shape.
// Kernel arguments: out, statistics (forward and backward input: the output channels' [M, 2] batch statistics, or
// null), workspace (split-K only, else null), stat_partial (with statistics: [phases][⌈P/BN⌉][M][2], else null),
// counters (split-K: one per tile of every phase; statistics: then one per row band; else null), a, b, bias (forward
// and backward input, else null), the geometry (n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, oh, ow), splits (1: write
// the tensor; > 1: write partials to the workspace, the tile's last block sums them into the tensor), k_per_split, p_stride.
// Grid (CEIL_DIV(P, BN), CEIL_DIV(M, BM), phases · splits) with the pass's M and P (backward input: the largest
// phase's P = N·⌈H/sh⌉·⌈W/sw⌉, phases = sh·sw); blockDim.x = the tile's THREADS.
#pragma once
// Needs kernels/wmma.cuh and kernels/conv_gemm.cuh, included before it by kernels.cu (NVRTC resolves the embedded
// headers by their kernels/… names only).

__device__ __forceinline__ ConvDims conv_dims(int n, int cin, int h, int w, int cout, int kh, int kw, int stride_h, int stride_w,
                                              int pad_h, int pad_w, int oh, int ow) {
    ConvDims d;
    d.n = n; d.cin = cin; d.h = h; d.w = w; d.cout = cout; d.kh = kh; d.kw = kw;
    d.stride_h = stride_h; d.stride_w = stride_w; d.pad_h = pad_h; d.pad_w = pad_w; d.oh = oh; d.ow = ow;
    return d;
}

#define CONV_GEOMETRY_PARAMS int n, int cin, int h, int wd, int cout, int kh, int kw, int stride_h, int stride_w, int pad_h, int pad_w, int oh, int ow
#define CONV_GEOMETRY conv_dims(n, cin, h, wd, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, oh, ow)

// forward: out = y, a = w, b = x; backward input: out = dx, a = w, b = dy; backward weight: out = dw, a = dy, b = x.
#define CONV_GEMM_KERNEL(name, MODE, TILE)                                                                           \
    extern "C" __global__ void __launch_bounds__(TILE::THREADS)                                                    \
    name(float* __restrict__ out, float* __restrict__ statistics, float* __restrict__ workspace,                   \
         float* __restrict__ stat_partial, unsigned* __restrict__ counters,                                        \
         const float* __restrict__ a, const float* __restrict__ b, const float* __restrict__ bias,                 \
         CONV_GEOMETRY_PARAMS, int splits, int k_per_split, int p_stride) {                                        \
        conv_gemm<MODE, TILE>(out, statistics, workspace, stat_partial, counters, a, b, bias, CONV_GEOMETRY,       \
                              splits, k_per_split, p_stride);                                                      \
    }

typedef ConvSimt<128, 64, 8, 8, 8> ConvFp32Large;
typedef ConvSimt<16, 128, 8, 2, 8> ConvFp32ThinM;
typedef ConvSimt<64, 32, 8, 4, 4> ConvFp32Small;
typedef ConvWmma<128, 64, 16, 4, 2> ConvTf32Large;
typedef ConvWmma<16, 128, 16, 1, 4> ConvTf32ThinM;
typedef ConvWmma<64, 32, 16, 2, 2> ConvTf32Small;

#define CONV_GEMM_KERNELS(pass, MODE)                                       \
    CONV_GEMM_KERNEL(conv2d_##pass##_fp32_128x64_kernel, MODE, ConvFp32Large) \
    CONV_GEMM_KERNEL(conv2d_##pass##_fp32_16x128_kernel, MODE, ConvFp32ThinM) \
    CONV_GEMM_KERNEL(conv2d_##pass##_fp32_64x32_kernel, MODE, ConvFp32Small)  \
    CONV_GEMM_KERNEL(conv2d_##pass##_tf32_128x64_kernel, MODE, ConvTf32Large) \
    CONV_GEMM_KERNEL(conv2d_##pass##_tf32_16x128_kernel, MODE, ConvTf32ThinM) \
    CONV_GEMM_KERNEL(conv2d_##pass##_tf32_64x32_kernel, MODE, ConvTf32Small)

// y = conv(x, w) + bias: M = Cout, P = N·OH·OW, K = KH·KW·Cin.
CONV_GEMM_KERNELS(forward, CONV_MODE_FORWARD)
// dx = the transposed convolution of dy with w, by phases: M = Cin, P = N·|phase rows|·|phase cols|, K = taps·Cout.
CONV_GEMM_KERNELS(backward_input, CONV_MODE_BACKWARD_INPUT)
// dw[co, ci, i, j] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, ci, oh·sh − ph + i, ow·sw − pw + j]: M = Cout, P = Cin·KH·KW,
// K = N·OH·OW (huge while M × P is tiny: the launcher splits K).
CONV_GEMM_KERNELS(backward_weight, CONV_MODE_BACKWARD_WEIGHT)

#ifdef BLURVAE_HOST_EMULATION
#define CONV_HOST_KERNELS(pass)                              \
    BLURVAE_HOST_KERNEL(conv2d_##pass##_fp32_128x64_kernel)  \
    BLURVAE_HOST_KERNEL(conv2d_##pass##_fp32_16x128_kernel)  \
    BLURVAE_HOST_KERNEL(conv2d_##pass##_fp32_64x32_kernel)   \
    BLURVAE_HOST_KERNEL(conv2d_##pass##_tf32_128x64_kernel)  \
    BLURVAE_HOST_KERNEL(conv2d_##pass##_tf32_16x128_kernel)  \
    BLURVAE_HOST_KERNEL(conv2d_##pass##_tf32_64x32_kernel)
CONV_HOST_KERNELS(forward)
CONV_HOST_KERNELS(backward_input)
CONV_HOST_KERNELS(backward_weight)
#endif

// kernels/conv_gemm.cuh — the implicit GEMM behind every convolution kernel of conv.cuh (included by kernels.cu just before conv.cuh).
//
// Each pass is one matrix product C[M, P] = A[M, K] · B[K, P] whose operands are gathered from the tensors on the fly:
//   forward          C = y[co, (n, oh, ow)]    A = w[co, (tap, ci)]     B = x at (oh·sh − ph + i, ow·sw − pw + j)
//   backward input   C = dx[ci, (n, uh, uw)]   A = w[co→ci, (tap, co)]  B = dy at (base + u − t)      (one phase)
//   backward weight  C = dw[co, (ci, i, j)]    A = dy[co, (n, oh, ow)]  B = x at (oh·sh − ph + i, ow·sw − pw + j)
// Forward and backward input are the same "correlation" GEMM with different constants (ConvGemm): the backward
// input of a stride-s convolution is split into s² phases (sub-pixel decomposition): the input pixels ih with
// (ih + p) mod s = φ are reached only by the taps i ≡ φ (mod s), through output row oh = base_φ + u − t. Each phase is a
// dense stride-1 correlation with ⌈KH/s⌉·⌈KW/s⌉ taps, so no multiply-add ever meets a structural zero (the old kernel
// spent 75 % of its k3/k4 stride-2 work on them). Strides and paddings are per axis (sh, sw, ph, pw), so there are
// sh·sw phases and each axis has its own; the text above reads s and p for the axis at hand. blockIdx.z enumerates
// phase × split.
//
// Why it is shaped this way (CUTLASS's "implicit GEMM" recipe, written for NVRTC without CUTLASS):
// - compile-time tiles BM × BN × BK, so the accumulators live in registers and every loop unrolls;
// - K is ordered (tap, channel) with the channel fastest, and each thread walks it with a mixed-radix counter
//   (KCounter): moving by BK costs a few compares, never a division; the per-column part of every gather address
//   (image, output row/column) is computed once per block (Column), so the K-loop does no division at all;
// - double-buffered shared memory with the next tile prefetched into registers while the current one is multiplied:
//   one __syncthreads per K-step;
// - two maths on the same loaders: SIMT FP32 (each thread a TM × TN register tile) and TF32 tensor cores via WMMA
//   m16n16k8 (each warp a WM × WN tile of 16 × 16 fragments); tiles are rounded to TF32 once, when staged in shared
//   memory, so the tensor cores' truncation of the low mantissa bits is a no-op, as in PyTorch/cuDNN's TF32 mode;
// - split-K in one launch: with splits > 1 a block sums only its slice of K and writes a raw partial tile to a
//   workspace [phase][split][M][p_stride]; the last of a tile's `splits` blocks to finish (an integer ticket per
//   tile, CUDA's threadfence-reduction pattern) sums the slices in split order and applies the epilogue (scatter,
//   bias): the same bits whichever block comes last, no float atomics, no second launch (conv_split_k_fixup).
//   The launcher (GpuDevice.Conv.cs) decides tiles and splits.
// - batch statistics in the epilogue (forward and backward input, when `statistics` is non-null: IBackend's
//   Conv2dForward/Conv2dBackwardInput `statistics`, what the BatchNorm after the layer takes instead of a statistics
//   launch of its own): the block that finished a tile reads it back while it is in cache, writes each row's (mean,
//   centred sum of squares) over the tile's columns to stat_partial[phase][tile column][M][2], and the last tile of
//   the row band to finish (a ticket per blockIdx.y, after the split-K tickets) merges the band's tiles in (phase,
//   column) order by chan_merge into statistics[M][2] (conv_statistics_finish): deterministic, in the same launch.
#pragma once


#define CONV_MODE_FORWARD 0
#define CONV_MODE_BACKWARD_INPUT 1
#define CONV_MODE_BACKWARD_WEIGHT 2

// g++ warns about (and -Werror rejects) the CUDA-only unroll pragma, so the host build drops it.
#ifdef BLURVAE_HOST_EMULATION
#define CONV_UNROLL
#else
#define CONV_UNROLL _Pragma("unroll")
#endif

#define CONV_SMEM_PAD 8 // floats: keeps every 16-row WMMA fragment pointer 32-byte aligned and spreads banks

struct ConvDims {
    int n, cin, h, w, cout, kh, kw, stride_h, stride_w, pad_h, pad_w, oh, ow;
};

// The GEMM of one pass (and phase). K and P are mixed-radix indices: k = (k_outer, k_mid, k_inner), p = (p_outer,
// p_mid, p_inner), with radices k_mid_n/k_inner_n and p_mid_n/p_inner_n.
struct ConvGemm {
    int M, P, K;
    int k_mid_n, k_inner_n, p_mid_n, p_inner_n;
    // correlation passes: B = src[n, k_inner, row, col], row = p_mid·row_mul + row0 + tap_sign·k_outer,
    // col = p_inner·col_mul + col0 + tap_sign·k_mid
    int src_c, src_h, src_w, row_mul, col_mul, row0, col0, tap_sign;
    // A = w[m·w_m + k_inner·w_c + (tap0_h + tap_step_h·k_outer)·kw + tap0_w + tap_step_w·k_mid]
    int w_m, w_c, tap0_h, tap0_w, tap_step_h, tap_step_w;
    // C lands at out[(n·M + m)·dst_h·dst_w + (dst0_h + dst_step_h·p_mid)·dst_w + dst0_w + dst_step_w·p_inner]
    int dst_h, dst_w, dst0_h, dst0_w, dst_step_h, dst_step_w;
};

__device__ __forceinline__ int conv_ceil_div(int a, int b) { return a <= 0 ? 0 : (a + b - 1) / b; }

// The GEMM of MODE; `phase` (< stride_h·stride_w) only matters for the backward input.
template <int MODE>
__device__ __forceinline__ ConvGemm conv_gemm_setup(const ConvDims& d, int phase) {
    ConvGemm g;
    const int sh = d.stride_h, sw = d.stride_w;
    if (MODE == CONV_MODE_BACKWARD_WEIGHT) {
        g.M = d.cout; g.P = d.cin * d.kh * d.kw; g.K = d.n * d.oh * d.ow;
        g.k_mid_n = d.oh; g.k_inner_n = d.ow; g.p_mid_n = d.kh; g.p_inner_n = d.kw;
        return g; // the remaining fields belong to the correlation passes
    }
    if (MODE == CONV_MODE_FORWARD) {
        g.M = d.cout; g.k_inner_n = d.cin; g.k_mid_n = d.kw; g.p_mid_n = d.oh; g.p_inner_n = d.ow;
        g.K = d.kh * d.kw * d.cin;
        g.src_c = d.cin; g.src_h = d.h; g.src_w = d.w; g.row_mul = sh; g.col_mul = sw; g.row0 = -d.pad_h; g.col0 = -d.pad_w; g.tap_sign = 1;
        g.w_m = d.cin * d.kh * d.kw; g.w_c = d.kh * d.kw; g.tap0_h = 0; g.tap0_w = 0; g.tap_step_h = 1; g.tap_step_w = 1;
        g.dst_h = d.oh; g.dst_w = d.ow; g.dst0_h = 0; g.dst0_w = 0; g.dst_step_h = 1; g.dst_step_w = 1;
    } else { // backward input, phase (ph, pw): input pixels ih = ih0 + sh·u with (ih + pad_h) mod sh = ph (columns likewise; host twin: BlurVae.Kernels/ConvPhases.cs)
        const int ph = phase / sw, pw = phase - ph * sw;
        const int ih0 = ((ph - d.pad_h) % sh + sh) % sh, iw0 = ((pw - d.pad_w) % sw + sw) % sw;
        const int th = conv_ceil_div(d.kh - ph, sh), tw = conv_ceil_div(d.kw - pw, sw);
        g.M = d.cin; g.k_inner_n = d.cout; g.k_mid_n = tw; g.p_mid_n = conv_ceil_div(d.h - ih0, sh); g.p_inner_n = conv_ceil_div(d.w - iw0, sw);
        g.K = th * tw * d.cout;
        g.src_c = d.cout; g.src_h = d.oh; g.src_w = d.ow; g.row_mul = 1; g.col_mul = 1;
        g.row0 = (ih0 + d.pad_h - ph) / sh; g.col0 = (iw0 + d.pad_w - pw) / sw; g.tap_sign = -1; // oh = row0 + u − t
        g.w_m = d.kh * d.kw; g.w_c = d.cin * d.kh * d.kw; g.tap0_h = ph; g.tap0_w = pw; g.tap_step_h = sh; g.tap_step_w = sw;
        g.dst_h = d.h; g.dst_w = d.w; g.dst0_h = ih0; g.dst0_w = iw0; g.dst_step_h = sh; g.dst_step_w = sw;
    }
    g.P = d.n * g.p_mid_n * g.p_inner_n;
    return g;
}

// A thread's position along K: k = (outer·mid_n + mid)·inner_n + inner. Advancing carries instead of dividing.
struct KCounter {
    int k, outer, mid, inner;
    __device__ __forceinline__ void init(int k0, const ConvGemm& g) {
        k = k0;
        inner = g.k_inner_n > 0 ? k0 % g.k_inner_n : 0;
        const int t = g.k_inner_n > 0 ? k0 / g.k_inner_n : 0;
        mid = g.k_mid_n > 0 ? t % g.k_mid_n : 0;
        outer = g.k_mid_n > 0 ? t / g.k_mid_n : 0;
    }
    __device__ __forceinline__ void advance(int step, const ConvGemm& g) {
        k += step;
        inner += step;
        while (inner >= g.k_inner_n) { // at most step / inner_n + 1 rounds; never divides
            inner -= g.k_inner_n;
            if (++mid == g.k_mid_n) { mid = 0; outer++; }
        }
    }
};

// The per-column (B) part of a gather address, computed once per block: valid, base offset and the row/col origin.
struct Column {
    bool valid;
    int base, row, col;
};

template <int MODE>
__device__ __forceinline__ Column conv_column(const ConvDims& d, const ConvGemm& g, int p) {
    Column c;
    c.valid = p < g.P;
    if (!c.valid) { c.base = c.row = c.col = 0; return c; }
    const int per = g.p_mid_n * g.p_inner_n, outer = p / per, q = p - outer * per, mid = q / g.p_inner_n, inner = q - mid * g.p_inner_n;
    if (MODE == CONV_MODE_BACKWARD_WEIGHT) { // p = (ci, i, j)
        c.base = outer * d.h * d.w; c.row = mid - d.pad_h; c.col = inner - d.pad_w;
    } else { // p = (n, u_h, u_w)
        c.base = outer * g.src_c * g.src_h * g.src_w; c.row = mid * g.row_mul + g.row0; c.col = inner * g.col_mul + g.col0;
    }
    return c;
}

// A[m, k] (0 outside [M) × [k_end)).
template <int MODE>
__device__ __forceinline__ float conv_fetch_a(const float* __restrict__ a, const ConvDims& d, const ConvGemm& g, int m, const KCounter& k, int k_end) {
    if (m >= g.M || k.k >= k_end) return 0.0f;
    if (MODE == CONV_MODE_BACKWARD_WEIGHT) return a[(k.outer * d.cout + m) * d.oh * d.ow + k.mid * d.ow + k.inner]; // dy
    return a[m * g.w_m + k.inner * g.w_c + (g.tap0_h + g.tap_step_h * k.outer) * d.kw + g.tap0_w + g.tap_step_w * k.mid]; // w
}

// B[k, p] (0 outside [k_end) × [P) and in the zero padding).
template <int MODE>
__device__ __forceinline__ float conv_fetch_b(const float* __restrict__ b, const ConvDims& d, const ConvGemm& g, const KCounter& k, const Column& c, int k_end) {
    if (!c.valid || k.k >= k_end) return 0.0f;
    if (MODE == CONV_MODE_BACKWARD_WEIGHT) { // x[n, ci, oh·sh + i − ph, ow·sw + j − pw]
        const int row = c.row + k.mid * d.stride_h, col = c.col + k.inner * d.stride_w;
        if (row < 0 || row >= d.h || col < 0 || col >= d.w) return 0.0f;
        return b[k.outer * d.cin * d.h * d.w + c.base + row * d.w + col];
    }
    const int row = c.row + g.tap_sign * k.outer, col = c.col + g.tap_sign * k.mid;
    if (row < 0 || row >= g.src_h || col < 0 || col >= g.src_w) return 0.0f;
    return b[c.base + k.inner * g.src_h * g.src_w + row * g.src_w + col];
}

// The place of C[m, p] in the output tensor of MODE. For the correlation passes it is
// conv_out_index(g, 0, p) + m·dst_h·dst_w: a column's part is computed once for every row (conv_tile_statistics).
template <int MODE>
__device__ __forceinline__ int conv_out_index(const ConvGemm& g, int m, int p) {
    if (MODE == CONV_MODE_BACKWARD_WEIGHT) return m * g.P + p;
    const int per = g.p_mid_n * g.p_inner_n, n = p / per, q = p - n * per, u = q / g.p_inner_n, v2 = q - u * g.p_inner_n;
    return (n * g.M + m) * g.dst_h * g.dst_w + (g.dst0_h + g.dst_step_h * u) * g.dst_w + g.dst0_w + g.dst_step_w * v2;
}

// Writes the finished C[m, p] (+ bias[m]) to its place in the output tensor of MODE.
template <int MODE>
__device__ __forceinline__ void conv_store(float* __restrict__ out, const float* __restrict__ bias, const ConvGemm& g, int m, int p, float v) {
    out[conv_out_index<MODE>(g, m, p)] = MODE != CONV_MODE_BACKWARD_WEIGHT && bias != nullptr ? v + bias[m] : v;
}

// The epilogue of one finished element: the final tensor, or with splits > 1 the raw partial of this split.
template <int MODE>
__device__ __forceinline__ void conv_emit(float* __restrict__ out, const float* __restrict__ bias, const ConvGemm& g, int splits, int p_stride, int m, int p, float v) {
    if (m >= g.M || p >= g.P) return;
    if (splits > 1) out[(static_cast<long long>(blockIdx.z) * g.M + m) * p_stride + p] = v;
    else conv_store<MODE>(out, bias, g, m, p, v);
}

// ---- tile configurations (the launcher mirrors them in GpuDevice.Conv.cs: ConvTile) ----
// SIMT: THREADS = (BM/TM)·(BN/TN), each thread a TM × TN register tile with rows/columns strided by BM/TM and BN/TN
// (conflict-free shared reads). WMMA: THREADS = 32·WARPS_M·WARPS_N, each warp a (BM/WARPS_M) × (BN/WARPS_N) tile.
template <int BM_, int BN_, int BK_, int TM_, int TN_>
struct ConvSimt {
    static const int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_, THREADS = (BM / TM) * (BN / TN);
    static const bool TF32 = false;
};
template <int BM_, int BN_, int BK_, int WARPS_M_, int WARPS_N_>
struct ConvWmma {
    static const int BM = BM_, BN = BN_, BK = BK_, WARPS_M = WARPS_M_, WARPS_N = WARPS_N_, THREADS = 32 * WARPS_M * WARPS_N;
    static const int WM = BM / WARPS_M, WN = BN / WARPS_N, FM = WM / 16, FN = WN / 16;
    static const bool TF32 = true;
    static_assert(BK % 8 == 0 && WM % 16 == 0 && WN % 16 == 0, "WMMA tiles are made of 16 x 16 x 8 steps");
};

// Which tile elements a thread stages: A is always loaded k-fastest (a thread keeps one k, NA rows of m); B is
// loaded p-fastest for the correlation passes (consecutive output pixels are consecutive addresses: one column per
// thread, NB values of k) and k-fastest for the weight gradient (there K runs along the image rows).
template <int MODE, class C>
struct ConvLoads {
    static const bool B_K_FAST = MODE == CONV_MODE_BACKWARD_WEIGHT;
    static const int NA = C::BM * C::BK / C::THREADS, NB = C::BN * C::BK / C::THREADS;
    static const int NBK = B_K_FAST ? 1 : NB, NBC = B_K_FAST ? NB : 1; // k counters and columns a thread keeps for B
    static_assert(C::THREADS % C::BK == 0 && NA * C::THREADS == C::BM * C::BK, "A tile must split evenly over the threads");
    static_assert(NB * C::THREADS == C::BN * C::BK && (B_K_FAST ? C::THREADS % C::BK == 0 : C::THREADS % C::BN == 0),
                  "B tile must split evenly over the threads");
    static __device__ __forceinline__ int a_k(int t) { return t % C::BK; }
    static __device__ __forceinline__ int a_m(int t, int q) { return t / C::BK + q * (C::THREADS / C::BK); }
    static __device__ __forceinline__ int b_k(int t, int q) { return B_K_FAST ? t % C::BK : t / C::BN + q * (C::THREADS / C::BN); }
    static __device__ __forceinline__ int b_p(int t, int q) { return B_K_FAST ? t / C::BK + q * (C::THREADS / C::BK) : t % C::BN; }
};

// The staged operand value: rounded to TF32 for the tensor-core maths (once here, not per fragment load).
template <class C> __device__ __forceinline__ float conv_stage(float v) {
    if (C::TF32) return nvcuda::wmma::__float_to_tf32(v);
    return v;
}

// Shared memory of one block: the double-buffered A and B tiles, and (WMMA) a 16 × 16 scratch per warp for the
// epilogue, which writes fragments through shared memory because their element order is opaque.
template <class C>
struct ConvShared {
    float a[2][C::BK][C::BM + CONV_SMEM_PAD];
    float b[2][C::BK][C::BN + CONV_SMEM_PAD];
};

// SIMT maths: acc[i][j] += Σ_k As[k][row_i] · Bs[k][col_j].
template <class C>
struct ConvSimtMath {
    float acc[C::TM][C::TN];
    int ty, tx;
    __device__ __forceinline__ void init(int t) {
        tx = t % (C::BN / C::TN); ty = t / (C::BN / C::TN);
CONV_UNROLL
        for (int i = 0; i < C::TM; i++)
CONV_UNROLL
            for (int j = 0; j < C::TN; j++) acc[i][j] = 0.0f;
    }
    __device__ __forceinline__ void step(const float (*As)[C::BM + CONV_SMEM_PAD], const float (*Bs)[C::BN + CONV_SMEM_PAD]) {
CONV_UNROLL
        for (int kk = 0; kk < C::BK; kk++) {
            float av[C::TM], bv[C::TN];
CONV_UNROLL
            for (int i = 0; i < C::TM; i++) av[i] = As[kk][ty + i * (C::BM / C::TM)];
CONV_UNROLL
            for (int j = 0; j < C::TN; j++) bv[j] = Bs[kk][tx + j * (C::BN / C::TN)];
CONV_UNROLL
            for (int i = 0; i < C::TM; i++)
CONV_UNROLL
                for (int j = 0; j < C::TN; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
    }
    template <int MODE>
    __device__ __forceinline__ void finish(float* __restrict__ out, const float* __restrict__ bias, const ConvGemm& g, int splits, int p_stride, int m0, int p0) {
CONV_UNROLL
        for (int i = 0; i < C::TM; i++)
CONV_UNROLL
            for (int j = 0; j < C::TN; j++)
                conv_emit<MODE>(out, bias, g, splits, p_stride, m0 + ty + i * (C::BM / C::TM), p0 + tx + j * (C::BN / C::TN), acc[i][j]);
    }
};

// WMMA maths: each warp FM × FN accumulator fragments; A is staged k-major (As[k][m]), i.e. a column-major
// matrix_a with leading dimension BM + pad; B row-major (Bs[k][p]).
template <class C>
struct ConvWmmaMath {
    nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 8, float> acc[C::FM][C::FN];
    int wy, wx, lane;
    __device__ __forceinline__ void init(int t) {
        const int warp = t / 32;
        lane = t % 32; wy = warp / C::WARPS_N; wx = warp % C::WARPS_N;
CONV_UNROLL
        for (int i = 0; i < C::FM; i++)
CONV_UNROLL
            for (int j = 0; j < C::FN; j++) nvcuda::wmma::fill_fragment(acc[i][j], 0.0f);
    }
    __device__ __forceinline__ void step(const float (*As)[C::BM + CONV_SMEM_PAD], const float (*Bs)[C::BN + CONV_SMEM_PAD]) {
        using namespace nvcuda;
CONV_UNROLL
        for (int kk = 0; kk < C::BK; kk += 8) {
            wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major> fa[C::FM];
            wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[C::FN];
CONV_UNROLL
            for (int i = 0; i < C::FM; i++) wmma::load_matrix_sync(fa[i], &As[kk][wy * C::WM + i * 16], C::BM + CONV_SMEM_PAD);
CONV_UNROLL
            for (int j = 0; j < C::FN; j++) wmma::load_matrix_sync(fb[j], &Bs[kk][wx * C::WN + j * 16], C::BN + CONV_SMEM_PAD);
CONV_UNROLL
            for (int i = 0; i < C::FM; i++)
CONV_UNROLL
                for (int j = 0; j < C::FN; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
    }
    template <int MODE>
    __device__ __forceinline__ void finish(float* __restrict__ out, const float* __restrict__ bias, const ConvGemm& g, int splits, int p_stride, int m0, int p0) {
        __shared__ __align__(32) float scratch[C::WARPS_M * C::WARPS_N][16 * 16];
        float* mine = scratch[wy * C::WARPS_N + wx];
CONV_UNROLL
        for (int i = 0; i < C::FM; i++)
CONV_UNROLL
            for (int j = 0; j < C::FN; j++) {
                nvcuda::wmma::store_matrix_sync(mine, acc[i][j], 16, nvcuda::wmma::mem_row_major);
                __syncwarp();
                for (int e = lane; e < 256; e += 32)
                    conv_emit<MODE>(out, bias, g, splits, p_stride, m0 + wy * C::WM + i * 16 + e / 16, p0 + wx * C::WN + j * 16 + e % 16, mine[e]);
                __syncwarp(); // the next fragment overwrites the scratch
            }
    }
};

template <class C, bool TF32 = C::TF32> struct ConvMathOf { typedef ConvSimtMath<C> type; };
template <class C> struct ConvMathOf<C, true> { typedef ConvWmmaMath<C> type; };

// Split-K's reduction, inside the GEMM launch: after a block has written its partial tile, the last of the tile's
// `splits` blocks (block_is_last_arrival on counters[tile], tile = (phase, blockIdx.y, blockIdx.x)) reads the
// partial tiles, sums them in split order and writes C[m, p] through the epilogue of MODE (scatter, bias): the same
// bits whichever block arrives last. Every thread of the block must call it; returns whether this block finished the
// tile (uniform over the block).
template <int MODE, class C>
__device__ __forceinline__ bool conv_split_k_fixup(float* __restrict__ out, const float* workspace, unsigned* __restrict__ counters,
                                                   const float* __restrict__ bias, const ConvGemm& g, int phase, int splits, int p_stride,
                                                   int m0, int p0) {
    const unsigned tile = ((unsigned)phase * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    if (!block_is_last_arrival(&counters[tile], (unsigned)splits)) return false; // uniform over the block
    const long long slice = static_cast<long long>(g.M) * p_stride;
    const volatile float* src = workspace + static_cast<long long>(phase) * splits * slice;
    for (int e = threadIdx.x; e < C::BM * C::BN; e += C::THREADS) {
        const int m = m0 + e / C::BN, p = p0 + e % C::BN;
        if (m >= g.M || p >= g.P) continue;
        const long long at = static_cast<long long>(m) * p_stride + p;
        float s = 0.0f;
        for (int k = 0; k < splits; k++) s += src[k * slice + at];
        conv_store<MODE>(out, bias, g, m, p, s);
    }
    return true;
}

// ---- batch statistics in the epilogue (correlation passes; see the header) ----

// First level: the finished tile (m0, p0) of `out`, read back by the block that wrote it (after a barrier), one warp a
// row at a time: lanes stride the tile's columns (each lane's column offsets computed once, for every row), the mean by
// warp_reduce_sum's fixed tree, then the centred squares from the same cached values; lane 0 writes the row's
// (mean, sq) to stat_partial[(tile·M + m)·2]. Every thread of the block must call it; p0 < P. `out` is read through a
// volatile pointer, never const __restrict__: this launch wrote it, so the read-only (non-coherent) load path is barred.
template <int MODE, class C>
__device__ __forceinline__ void conv_tile_statistics(float* __restrict__ stat_partial, const volatile float* out, const ConvGemm& g,
                                                     int tile, int m0, int p0) {
    const int NCOL = C::BN / 32;
    static_assert(C::BN % 32 == 0 && C::THREADS % 32 == 0, "a tile's columns and threads are whole warps");
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    int col[NCOL];
    bool valid[NCOL];
CONV_UNROLL
    for (int j = 0; j < NCOL; j++) {
        const int p = p0 + lane + 32 * j;
        valid[j] = p < g.P;
        col[j] = valid[j] ? conv_out_index<MODE>(g, 0, p) : 0;
    }
    const int count = min(C::BN, g.P - p0), plane = g.dst_h * g.dst_w;
    __syncthreads(); // every thread's stores of the tile before any is read back
    for (int r = warp; r < C::BM && m0 + r < g.M; r += C::THREADS / 32) { // uniform over the warp
        const int m = m0 + r;
        float v[NCOL], s = 0.0f;
CONV_UNROLL
        for (int j = 0; j < NCOL; j++) {
            v[j] = valid[j] ? out[col[j] + m * plane] : 0.0f;
            s += v[j];
        }
        const float mean = __shfl_sync(0xffffffffu, warp_reduce_sum(s), 0) / (float)count;
        float sq = 0.0f;
CONV_UNROLL
        for (int j = 0; j < NCOL; j++) {
            const float dv = v[j] - mean;
            if (valid[j]) sq += dv * dv;
        }
        sq = warp_reduce_sum(sq);
        if (lane == 0) {
            stat_partial[(static_cast<long long>(tile) * g.M + m) * 2] = mean;
            stat_partial[(static_cast<long long>(tile) * g.M + m) * 2 + 1] = sq;
        }
    }
}

// Second level: every finished (or empty) tile of row band blockIdx.y arrives once at the band's ticket
// (counters[gridDim.x·gridDim.y·phases + blockIdx.y], after the split-K tickets); the last merges the band's rows over
// the tiles in (phase, tile column) order — a tile's count from its phase's P, empty tiles skipped — by chan_merge and
// writes statistics[m·2 + {0, 1}]. Every thread of the block must call it.
template <int MODE, class C>
__device__ __forceinline__ void conv_statistics_finish(float* __restrict__ statistics, const float* stat_partial, unsigned* __restrict__ counters,
                                                       const ConvDims& d, int M, int m0, int phases) {
    const unsigned band = (unsigned)phases * gridDim.x * gridDim.y + blockIdx.y;
    if (!block_is_last_arrival(&counters[band], (unsigned)phases * gridDim.x)) return; // uniform over the block
    const volatile float* parts = stat_partial;
    for (int m = m0 + (int)threadIdx.x; m < min(m0 + C::BM, M); m += C::THREADS) {
        float mean = 0.0f, sq = 0.0f;
        int seen = 0;
        for (int phase = 0; phase < phases; phase++) {
            const int P = conv_gemm_setup<MODE>(d, phase).P;
            for (int bx = 0; bx < (int)gridDim.x; bx++) {
                const int len = min(C::BN, P - bx * C::BN);
                if (len <= 0) break; // this phase's later tiles are empty too
                const long long at = ((static_cast<long long>(phase) * gridDim.x + bx) * M + m) * 2;
                seen = chan_merge(&mean, &sq, seen, parts[at], parts[at + 1], len);
            }
        }
        statistics[m * 2] = mean;
        statistics[m * 2 + 1] = sq;
    }
}

// One block's tile of C for phase·splits + split = blockIdx.z; every thread of the block must call it (barriers).
// k_per_split is a multiple of BK (the launcher's split rule); with splits > 1, workspace and counters are
// conv_split_k_fixup's; with statistics (correlation passes only), stat_partial and counters are the statistics'.
template <int MODE, class C>
__device__ __forceinline__ void conv_gemm(float* __restrict__ out, float* __restrict__ statistics, float* __restrict__ workspace,
                                          float* __restrict__ stat_partial, unsigned* __restrict__ counters,
                                          const float* __restrict__ a, const float* __restrict__ b, const float* __restrict__ bias,
                                          const ConvDims& d, int splits, int k_per_split, int p_stride) {
    typedef ConvLoads<MODE, C> L;
    __shared__ __align__(32) ConvShared<C> sm;
    const int phase = blockIdx.z / splits, split = blockIdx.z - phase * splits, phases = gridDim.z / splits;
    const bool stats = MODE != CONV_MODE_BACKWARD_WEIGHT && statistics != nullptr;
    const ConvGemm g = conv_gemm_setup<MODE>(d, phase);
    const int m0 = blockIdx.y * C::BM, p0 = blockIdx.x * C::BN;
    if (m0 >= g.M || p0 >= g.P) { // phases differ in P; uniform over the block, before any barrier
        // An empty tile still arrives, once, at its row band's statistics ticket.
        if (stats && split == 0) conv_statistics_finish<MODE, C>(statistics, stat_partial, counters, d, g.M, m0, phases);
        return;
    }
    const int t = threadIdx.x;
    const int k_begin = split * k_per_split, k_end = min(g.K, k_begin + k_per_split);
    const int tiles = k_end > k_begin ? (k_end - k_begin + C::BK - 1) / C::BK : 0;

    KCounter ka, kb[L::NBK];
    Column cb[L::NBC];
    ka.init(k_begin + L::a_k(t), g);
CONV_UNROLL
    for (int q = 0; q < L::NBK; q++) kb[q].init(k_begin + L::b_k(t, q), g);
CONV_UNROLL
    for (int q = 0; q < L::NBC; q++) cb[q] = conv_column<MODE>(d, g, p0 + L::b_p(t, q));

    float ra[L::NA] = {}, rb[L::NB] = {};
    typename ConvMathOf<C>::type math;
    math.init(t);
    // global -> registers for the current K-step, registers -> shared buffer `buf`.
#define CONV_FETCH()                                                                                              \
CONV_UNROLL                                                                                                       \
    for (int q = 0; q < L::NA; q++) ra[q] = conv_fetch_a<MODE>(a, d, g, m0 + L::a_m(t, q), ka, k_end);            \
CONV_UNROLL                                                                                                       \
    for (int q = 0; q < L::NB; q++) rb[q] = conv_fetch_b<MODE>(b, d, g, kb[L::B_K_FAST ? 0 : q], cb[L::B_K_FAST ? q : 0], k_end);
#define CONV_STAGE(buf)                                                                                           \
CONV_UNROLL                                                                                                       \
    for (int q = 0; q < L::NA; q++) sm.a[buf][L::a_k(t)][L::a_m(t, q)] = conv_stage<C>(ra[q]);                    \
CONV_UNROLL                                                                                                       \
    for (int q = 0; q < L::NB; q++) sm.b[buf][L::b_k(t, q)][L::b_p(t, q)] = conv_stage<C>(rb[q]);
    if (tiles > 0) {
        CONV_FETCH()
        CONV_STAGE(0)
    }
    __syncthreads();
    int buf = 0;
    for (int tile = 0; tile < tiles; tile++) {
        const bool more = tile + 1 < tiles;
        if (more) { // prefetch the next step while this one is multiplied
            ka.advance(C::BK, g);
CONV_UNROLL
            for (int q = 0; q < L::NBK; q++) kb[q].advance(C::BK, g);
            CONV_FETCH()
        }
        math.step(sm.a[buf], sm.b[buf]);
        if (more) { CONV_STAGE(buf ^ 1) }
        __syncthreads(); // one barrier per step: the buffer written above was last read before the previous one
        buf ^= 1;
    }
#undef CONV_FETCH
#undef CONV_STAGE
    math.template finish<MODE>(splits > 1 ? workspace : out, bias, g, splits, p_stride, m0, p0);
    const bool finished = splits == 1 || conv_split_k_fixup<MODE, C>(out, workspace, counters, bias, g, phase, splits, p_stride, m0, p0);
    if (stats && finished) { // uniform over the block
        conv_tile_statistics<MODE, C>(stat_partial, out, g, phase * gridDim.x + blockIdx.x, m0, p0);
        conv_statistics_finish<MODE, C>(statistics, stat_partial, counters, d, g.M, m0, phases);
    }
}

// kernels/host/wmma_host.h — a host emulation of the subset of CUDA's WMMA API (nvcuda::wmma, <mma.h>) that the
// TF32 convolution kernels use: m16n16k8 fragments of precision::tf32 (matrix_a, matrix_b) and float (accumulator),
// load_matrix_sync (a and b), store_matrix_sync, fill_fragment, mma_sync and __float_to_tf32. Included by
// kernels/wmma.cuh after the API's tag types (matrix_a, row_major, …), which it shares with the NVRTC definitions.
//
// The API leaves the mapping of fragment elements to lanes opaque, so the emulation may pick its own: lane l holds
// elements [l·E, (l+1)·E) of the fragment's matrix in row-major logical order (E = num_elements). Kernels that only
// touch fragment elements through `for (i < num_elements)` loops (elementwise ops) are therefore exact here for any
// layout the hardware uses. Loads, stores and fills touch only the lane's own elements; mma_sync is the one operation
// that needs the whole warp: every lane publishes its elements of a, b and c into a per-warp exchange area, waits
// (like a shuffle) until all 32 lanes have, then computes its own elements of d. The exchange is double-buffered by
// the same parity counter as the shuffles, which is safe because no lane can be more than one collective ahead.
//
// TF32 semantics (as the hardware): __float_to_tf32 rounds to a 10-bit mantissa to nearest, ties away from zero (it is
// PTX `cvt.rna.tf32.f32`); mma_sync itself ignores the low 13 mantissa bits of its tf32 inputs (truncation), so
// kernels must round with __float_to_tf32 first, as ours do when they stage tiles in shared memory. Products and the
// accumulation are FP32; the hardware's summation order inside one mma is unspecified, here it is k ascending.
#pragma once

namespace blurvae_host {
// Per-warp exchange of mma_sync: [parity][a: 128 | b: 128 | c: 256] floats.
struct WmmaExchange { float v[kMaxThreads / 32][2][512]; };
inline thread_local WmmaExchange t_wmma;

inline uint32_t float_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
inline float bits_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
// The bits a tensor core reads of a tf32 operand: sign, exponent and the top 10 mantissa bits.
inline float tf32_truncate(float f) { return bits_float(float_bits(f) & 0xffffe000u); }
} // namespace blurvae_host

namespace nvcuda {
namespace wmma {
// Rows × cols of the logical matrix each fragment use holds for m16n16k8.
template <typename Use> struct fragment_shape;
template <> struct fragment_shape<matrix_a> { static constexpr int rows = 16, cols = 8; };
template <> struct fragment_shape<matrix_b> { static constexpr int rows = 8, cols = 16; };
template <> struct fragment_shape<accumulator> { static constexpr int rows = 16, cols = 16; };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
    static_assert(M == 16 && N == 16 && K == 8, "the emulation provides the m16n16k8 shape only");
    static constexpr int rows = fragment_shape<Use>::rows, cols = fragment_shape<Use>::cols;
    static constexpr int num_elements = rows * cols / 32;
    float x[num_elements];
};

// Logical (row, col) of element i of the calling lane.
template <typename Frag> inline void fragment_position(int i, int& r, int& c) {
    const int lane = static_cast<int>(blurvae_host::linear(threadIdx) % 32), e = lane * Frag::num_elements + i;
    r = e / Frag::cols;
    c = e % Frag::cols;
}

template <typename Use, typename T, typename Layout>
inline void load_matrix_sync(fragment<Use, 16, 16, 8, T, Layout>& f, const float* p, unsigned ldm) {
    using Frag = fragment<Use, 16, 16, 8, T, Layout>;
    for (int i = 0; i < Frag::num_elements; i++) {
        int r, c;
        fragment_position<Frag>(i, r, c);
        f.x[i] = std::is_same<Layout, col_major>::value ? p[c * ldm + r] : p[r * ldm + c];
    }
}
inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 8, float>& f, unsigned ldm, layout_t layout) {
    using Frag = fragment<accumulator, 16, 16, 8, float>;
    for (int i = 0; i < Frag::num_elements; i++) {
        int r, c;
        fragment_position<Frag>(i, r, c);
        (layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c]) = f.x[i];
    }
}
template <typename Use, typename T, typename Layout>
inline void fill_fragment(fragment<Use, 16, 16, 8, T, Layout>& f, float v) {
    for (float& e : f.x) e = v;
}

inline float __float_to_tf32(float f) {
    const uint32_t u = blurvae_host::float_bits(f);
    if ((u & 0x7f800000u) == 0x7f800000u) return f; // inf and NaN pass through
    // Adding half an ulp of the 10-bit mantissa to the magnitude rounds half away from zero; a carry into the
    // exponent is the correct result (up to infinity).
    return blurvae_host::bits_float((u + 0x1000u) & 0xffffe000u);
}

// d = a·b + c for the warp's 16×16×8 tile; every lane of a full warp must call it (d may be c).
template <typename LA, typename LB>
inline void mma_sync(fragment<accumulator, 16, 16, 8, float>& d, const fragment<matrix_a, 16, 16, 8, precision::tf32, LA>& a,
                     const fragment<matrix_b, 16, 16, 8, precision::tf32, LB>& b, const fragment<accumulator, 16, 16, 8, float>& c) {
    namespace h = blurvae_host;
    h::Runner& r = h::t_runner;
    if (!r.fiberMode) { h::fail(h::kSyncInPlainKernel, "wmma::mma_sync in a kernel registered with BLURVAE_HOST_KERNEL_NO_SYNC"); return; }
    const unsigned lin = h::linear(r.current->tid), warp = lin / 32, lane = lin % 32;
    if (r.threads - warp * 32 < 32) { h::fail(h::kInvalidConfiguration, "wmma::mma_sync needs full warps (blockDim a multiple of 32)"); return; }
    const unsigned buf = r.current->shuffles++ & 1;
    float* ex = h::t_wmma.v[warp][buf];
    for (int i = 0; i < 4; i++) ex[lane * 4 + i] = h::tf32_truncate(a.x[i]);
    for (int i = 0; i < 4; i++) ex[128 + lane * 4 + i] = h::tf32_truncate(b.x[i]);
    for (int i = 0; i < 8; i++) ex[256 + lane * 8 + i] = c.x[i];
    h::yield(h::State::AtShuffle);
    const float *A = ex, *B = ex + 128, *C = ex + 256; // A[16][8], B[8][16], C[16][16], row-major
    for (int i = 0; i < 8; i++) {
        const int e = static_cast<int>(lane) * 8 + i, row = e / 16, col = e % 16;
        float s = 0.0f;
        for (int k = 0; k < 8; k++) s += A[row * 8 + k] * B[k * 16 + col];
        d.x[i] = C[e] + s;
    }
}
} // namespace wmma
} // namespace nvcuda

// kernels/wmma.cuh — the WMMA API (nvcuda::wmma, m16n16k8 TF32 with FP32 accumulation, sm_80+) for the tensor-core
// convolution kernels, on every compiler that builds kernels.cu:
//
// - the host emulation (g++) gets it from kernels/host/wmma_host.h, included below;
// - NVRTC with the CUDA toolkit's include directory on its include path gets the real <mma.h>;
// - NVRTC without it (Debian's libnvrtc11.2 ships no headers, and `#include <mma.h>` fails with "could not open
//   source file") gets the definitions below, the same subset written on NVRTC's compiler builtins
//   (__mma_tf32_m16n16k8_*, the ones <mma.h> itself wraps). The NVRTC compile check (tests/…/Native/NvrtcTests.cs)
//   asserts that the PTX carries the expected `wmma.load/mma/store … m16n16k8 … tf32` instructions with the
//   layouts the kernels ask for, so the layout codes passed to the builtins are checked in CI without a GPU.
//
// Only the shape and types the kernels use are provided; fragment element order is opaque here as on the hardware.
#pragma once

#if !defined(BLURVAE_HOST_EMULATION) && defined(__has_include)
#if __has_include(<mma.h>)
#include <mma.h>
#define BLURVAE_HAVE_TOOLKIT_MMA 1
#endif
#endif

// The API's tag types, shared by the host emulation and the builtin-based definitions below.
#if defined(BLURVAE_HOST_EMULATION) || !defined(BLURVAE_HAVE_TOOLKIT_MMA)
namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision { struct tf32 {}; }
enum layout_t { mem_row_major, mem_col_major };
} // namespace wmma
} // namespace nvcuda
#endif

#ifdef BLURVAE_HOST_EMULATION
#include "host/wmma_host.h"
#elif !defined(BLURVAE_HAVE_TOOLKIT_MMA)
namespace nvcuda {
namespace wmma {

template <typename Use, int M, int N, int K, typename T, typename Layout = void> struct fragment;
// m16n16k8 TF32: a and b hold 4 elements per lane, the FP32 accumulator 8 (PTX ISA, "wmma" fragment sizes).
template <typename L> struct fragment<matrix_a, 16, 16, 8, precision::tf32, L> { enum { num_elements = 4 }; float x[4]; };
template <typename L> struct fragment<matrix_b, 16, 16, 8, precision::tf32, L> { enum { num_elements = 4 }; float x[4]; };
template <> struct fragment<accumulator, 16, 16, 8, float, void> { enum { num_elements = 8 }; float x[8]; };

// The builtins' layout operands must be literals at code generation (a folded constant expression makes NVRTC 11.8
// fail with "unexpected 'rowcol' operand"), hence one overload per layout.
#define BLURVAE_WMMA_LOAD(use, layout, code, builtin) \
    __device__ __forceinline__ void load_matrix_sync(fragment<use, 16, 16, 8, precision::tf32, layout>& f, const float* p, unsigned ldm) { \
        builtin(reinterpret_cast<int*>(f.x), reinterpret_cast<const int*>(p), ldm, code); \
    }
BLURVAE_WMMA_LOAD(matrix_a, row_major, 0, __mma_tf32_m16n16k8_ld_a)
BLURVAE_WMMA_LOAD(matrix_a, col_major, 1, __mma_tf32_m16n16k8_ld_a)
BLURVAE_WMMA_LOAD(matrix_b, row_major, 0, __mma_tf32_m16n16k8_ld_b)
BLURVAE_WMMA_LOAD(matrix_b, col_major, 1, __mma_tf32_m16n16k8_ld_b)
#undef BLURVAE_WMMA_LOAD

__device__ __forceinline__ void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 8, float>& f, unsigned ldm, layout_t layout) {
    if (layout == mem_col_major) __mma_m16n16k8_st_c_f32(p, f.x, ldm, 1);
    else __mma_m16n16k8_st_c_f32(p, f.x, ldm, 0);
}
template <typename Use, typename T, typename L>
__device__ __forceinline__ void fill_fragment(fragment<Use, 16, 16, 8, T, L>& f, float v) {
    for (int i = 0; i < fragment<Use, 16, 16, 8, T, L>::num_elements; i++) f.x[i] = v;
}
// d = a·b + c; the mma layout operand is a·2 + b with row = 0, col = 1.
#define BLURVAE_WMMA_MMA(la, lb, code) \
    __device__ __forceinline__ void mma_sync(fragment<accumulator, 16, 16, 8, float>& d, const fragment<matrix_a, 16, 16, 8, precision::tf32, la>& a, \
                                             const fragment<matrix_b, 16, 16, 8, precision::tf32, lb>& b, const fragment<accumulator, 16, 16, 8, float>& c) { \
        __mma_tf32_m16n16k8_mma_f32(d.x, reinterpret_cast<const int*>(a.x), reinterpret_cast<const int*>(b.x), c.x, code, 0); \
    }
BLURVAE_WMMA_MMA(row_major, row_major, 0)
BLURVAE_WMMA_MMA(row_major, col_major, 1)
BLURVAE_WMMA_MMA(col_major, row_major, 2)
BLURVAE_WMMA_MMA(col_major, col_major, 3)
#undef BLURVAE_WMMA_MMA
// Round to TF32: nearest, ties away from zero (PTX cvt.rna.tf32.f32, as <mma.h>'s own __float_to_tf32).
__device__ __forceinline__ float __float_to_tf32(float f) {
    unsigned r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(f));
    return __uint_as_float(r);
}
} // namespace wmma
} // namespace nvcuda
#endif

// kernels.cu — every device kernel of BlurVae in one translation unit.
//
// The per-op-family headers live in kernels/ (elementwise.cuh, optim.cuh, reduce.cuh, ...), llm.c style:
// forward and backward side by side, kernels named <op>_<forward|backward>_kernel, launch geometry chosen by the
// C# launcher. The CUDA backend embeds this file and compiles it with NVRTC for the device's compute capability;
// the same file compiles with g++ and -DBLURVAE_HOST_EMULATION against kernels/host/cuda_host.h into
// libblurvae_kernels_host.so, so that CI runs the kernels without a GPU (see kernels/README.md).
// Host-only code stays inside #ifdef BLURVAE_HOST_EMULATION; everything else is plain CUDA C++ for NVRTC.

#ifdef BLURVAE_HOST_EMULATION
#include "kernels/host/cuda_host.h"
#endif

#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))

#include "kernels/common.cuh"
#include "kernels/elementwise.cuh"
#include "kernels/optim.cuh"
#include "kernels/reduce.cuh"
#include "kernels/linear.cuh"    // after elementwise.cuh: the UnaryOp codes
#include "kernels/wmma.cuh"      // WMMA for the tensor-core convolutions (NVRTC builtins or <mma.h>)
#include "kernels/conv_gemm.cuh" // the implicit GEMM of conv.cuh
#include "kernels/conv.cuh"
#include "kernels/wiener.cuh"
#include "kernels/vae.cuh"
#include "kernels/batchnorm.cuh"
#include "kernels/softmax.cuh"
#include "kernels/resize.cuh"
#include "kernels/pool.cuh"
#include "kernels/losses.cuh"

#ifdef BLURVAE_HOST_EMULATION
#include "kernels/host/selftest.cuh"
#include "kernels/host/launch.h"
#endif

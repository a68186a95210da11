// kernels.cu — every device kernel of BlurVae in one translation unit.
//
// The per-op-family headers live in kernels/ (conv.cuh, batchnorm.cuh, wiener.cuh, adam.cuh, ...), llm.c style:
// forward and backward side by side, kernels named <op>_<forward|backward>_kernel. The CUDA backend (issue 4)
// embeds this file and compiles it with NVRTC for the device's compute capability; the same file compiles with
// g++ against kernels/host/cuda_host.h so that CI runs every kernel without a GPU.
//
// Until the CUDA backend lands, the CPU backend (BlurVae.Kernels/Cpu) is the only implementation of the ops.

#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))

// kernels/elementwise.cuh — elementwise activations, forward and backward side by side.
// Launch: one thread per element, grid = CEIL_DIV(n, block) (BlurVae.Kernels/Device/GpuDevice.Elementwise.cs).
#pragma once

// y = x for x > 0, alpha·x otherwise (CpuBackend UnaryOp.LeakyRelu).
extern "C" __global__ void leaky_relu_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int n, float alpha) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float v = x[i];
    y[i] = v > 0.0f ? v : alpha * v;
}

// dx = dy where x > 0, alpha·dy otherwise.
extern "C" __global__ void leaky_relu_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, const float* __restrict__ x, int n, float alpha) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(leaky_relu_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(leaky_relu_backward_kernel)
#endif

// ---- generic unary ops, binary ops with broadcasting, axpby ----------------------------------------------------------
// Launch (Device/GpuDevice.Unary.cs, GpuDevice.Binary.cs): one thread per element, grid = CEIL_DIV(n, block).

// The integer values of the C# enum BlurVae.Kernels.UnaryOp (Ops.cs), in its declaration order. The launcher passes
// (int)op; UnaryParityTests.KernelOpCodesMatchTheEnum pins the C# side to these numbers.
#define UNARY_SCALE 0      // y = alpha·x
#define UNARY_ADD_SCALAR 1 // y = x + alpha
#define UNARY_RELU 2
#define UNARY_LEAKY_RELU 3 // y = x for x > 0, alpha·x otherwise
#define UNARY_RELU6 4      // y = min(max(x, 0), 6)
#define UNARY_TANH 5
#define UNARY_SIGMOID 6
#define UNARY_EXP 7
#define UNARY_LOG 8
#define UNARY_ABS 9
#define UNARY_SQUARE 10
#define UNARY_POW 11       // y = x^alpha
#define UNARY_OP_COUNT 12
static_assert(UNARY_POW + 1 == UNARY_OP_COUNT, "UnaryOp codes must stay dense and in the C# enum's order");

// The integer values of the C# enum BlurVae.Kernels.BinaryOp.
#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2
#define BINARY_DIV 3
#define BINARY_OP_COUNT 4

// Most dims a broadcasting kernel takes. The launchers coalesce shapes first (CpuBackend's Shapes.Coalesce: extent-1
// axes dropped, neighbours that broadcast alike merged), so any tensor of rank ≤ 6 fits, and most ops run at rank 1–3.
#define BROADCAST_MAX_RANK 6

// Loops over the BROADCAST_MAX_RANK axes are unrolled on the device so their small arrays stay in registers;
// g++ rejects the CUDA-only pragma under -Werror, so the host build drops it (as CONV_UNROLL in conv.cuh).
#ifdef BLURVAE_HOST_EMULATION
#define BROADCAST_UNROLL
#else
#define BROADCAST_UNROLL _Pragma("unroll")
#endif

// y = f(x) for op a UNARY_* code, with the CPU backend's formulas (CpuBackend.Elementwise.cs). The op is uniform
// over the launch, so the switch does not diverge. An unknown op writes NaN (the launcher rejects it first).
extern "C" __global__ void unary_forward_kernel(float* __restrict__ y, const float* __restrict__ x, int n, int op, float alpha) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float v = x[i];
    float r;
    switch (op) {
        case UNARY_SCALE: r = v * alpha; break;
        case UNARY_ADD_SCALAR: r = v + alpha; break;
        case UNARY_RELU: r = fmaxf(v, 0.0f); break;
        case UNARY_LEAKY_RELU: r = v > 0.0f ? v : alpha * v; break;
        case UNARY_RELU6: r = fminf(fmaxf(v, 0.0f), 6.0f); break;
        case UNARY_TANH: r = tanhf(v); break;
        case UNARY_SIGMOID: r = 1.0f / (1.0f + expf(-v)); break;
        case UNARY_EXP: r = expf(v); break;
        case UNARY_LOG: r = logf(v); break;
        case UNARY_ABS: r = fabsf(v); break;
        case UNARY_SQUARE: r = v * v; break;
        case UNARY_POW: r = powf(v, alpha); break;
        default: r = nanf(""); break;
    }
    y[i] = r;
}

// dx = dy · f'(x), with the CPU backend's rules: Relu/LeakyRelu pass where x > 0; Relu6 passes only strictly inside
// (0, 6) (PyTorch's hardtanh backward); Abs uses sign(0) = 0; Tanh, Sigmoid and Exp read the forward's output y.
extern "C" __global__ void unary_backward_kernel(float* __restrict__ dx, const float* __restrict__ dy, const float* __restrict__ x,
                                                 const float* __restrict__ y, int n, int op, float alpha) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float g = dy[i];
    float r;
    switch (op) {
        case UNARY_SCALE: r = g * alpha; break;
        case UNARY_ADD_SCALAR: r = g; break;
        case UNARY_RELU: r = x[i] > 0.0f ? g : 0.0f * g; break;
        case UNARY_LEAKY_RELU: r = x[i] > 0.0f ? g : alpha * g; break;
        case UNARY_RELU6: { const float v = x[i]; r = v > 0.0f && v < 6.0f ? g : 0.0f; break; }
        case UNARY_TANH: { const float t = y[i]; r = g * (1.0f - t * t); break; }
        case UNARY_SIGMOID: { const float s = y[i]; r = g * s * (1.0f - s); break; }
        case UNARY_EXP: r = g * y[i]; break;
        case UNARY_LOG: r = g / x[i]; break;
        case UNARY_ABS: { const float v = x[i]; r = v > 0.0f ? g : v < 0.0f ? -g : 0.0f; break; }
        case UNARY_SQUARE: r = 2.0f * x[i] * g; break;
        case UNARY_POW: r = g * alpha * powf(x[i], alpha - 1.0f); break;
        default: r = nanf(""); break;
    }
    dx[i] = r;
}

// Offset of the row-major linear index i of a shape e[0..5] (left-padded with extent 1) in an operand with element
// strides s[0..5] (0 along its broadcast axes). Unrolled, so the small arrays stay in registers.
__device__ __forceinline__ long long broadcast_offset(long long i, const int* e, const long long* s) {
    long long off = 0;
BROADCAST_UNROLL
    for (int k = BROADCAST_MAX_RANK - 1; k >= 0; --k) {
        const long long q = i / e[k];
        off += (i - q * e[k]) * s[k];
        i = q;
    }
    return off;
}

// y = a op b with numpy broadcasting. y has the coalesced shape d0..d5 (left-padded with 1); as*/bs* are the element
// strides of a and b along those axes, 0 where the operand is broadcast. Adjacent threads write adjacent y and read
// adjacent (or the same) a and b elements, so every access is coalesced or a broadcast.
extern "C" __global__ void binary_forward_kernel(float* __restrict__ y, const float* __restrict__ a, const float* __restrict__ b, int n, int op,
                                                 int d0, int d1, int d2, int d3, int d4, int d5,
                                                 int as0, int as1, int as2, int as3, int as4, int as5,
                                                 int bs0, int bs1, int bs2, int bs3, int bs4, int bs5) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const int e[BROADCAST_MAX_RANK] = {d0, d1, d2, d3, d4, d5};
    const long long sa[BROADCAST_MAX_RANK] = {as0, as1, as2, as3, as4, as5};
    const long long sb[BROADCAST_MAX_RANK] = {bs0, bs1, bs2, bs3, bs4, bs5};
    const float va = a[broadcast_offset(i, e, sa)];
    const float vb = b[broadcast_offset(i, e, sb)];
    float r;
    switch (op) {
        case BINARY_ADD: r = va + vb; break;
        case BINARY_SUB: r = va - vb; break;
        case BINARY_MUL: r = va * vb; break;
        case BINARY_DIV: r = va / vb; break;
        default: r = nanf(""); break;
    }
    y[i] = r;
}

// y = alpha·x + beta·y in the CPU backend's order: beta = 0 ignores y (so NaN/garbage in y does not leak),
// otherwise y·beta (skipped for beta = 1) plus x (times alpha unless alpha = 1).
extern "C" __global__ void axpby_kernel(float* __restrict__ y, const float* __restrict__ x, int n, float alpha, float beta) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    if (beta == 0.0f) {
        y[i] = x[i] * alpha;
        return;
    }
    const float t = beta == 1.0f ? y[i] : y[i] * beta;
    y[i] = alpha == 1.0f ? t + x[i] : x[i] * alpha + t;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(unary_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(unary_backward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(binary_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(axpby_kernel)
#endif

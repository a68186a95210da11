// kernels/elementwise.cuh — elementwise ops, forward and backward side by side.
#pragma once

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

// The offsets in two operands of the row-major index i over a coalesced shape of `rank` axes. Axes come innermost
// first: extent e[k] with its fast_div magic m[k] and shift s[k], and each operand's element strides sa[k], sb[k]
// (0 along its broadcast axes). One multiply-high per axis of the actual rank (≤ MAX), no divide instruction.
template <int MAX>
__device__ __forceinline__ void broadcast_offsets(int i, int rank, const int* e, const unsigned* m, const unsigned* s,
                                                  const int* sa, const int* sb, long long* oa, long long* ob) {
    long long a = 0, b = 0;
BROADCAST_UNROLL
    for (int k = 0; k < MAX; ++k) {
        if (k < rank) {
            const int q = fast_div(i, m[k], s[k]);
            const int r = i - q * e[k];
            a += (long long)r * sa[k];
            b += (long long)r * sb[k];
            i = q;
        }
    }
    *oa = a;
    *ob = b;
}

// The walk a broadcasting kernel takes as parameters (GpuDevice's BroadcastWalk writes them): the rank, then per axis,
// innermost first and padded to BROADCAST_MAX_RANK, the extent and its fast_div magic and shift. The kernel body
// gathers them into the arrays e, m, s with BROADCAST_WALK_ARRAYS.
#define BROADCAST_WALK_PARAMS int rank, int e0, int e1, int e2, int e3, int e4, int e5, \
    unsigned m0, unsigned m1, unsigned m2, unsigned m3, unsigned m4, unsigned m5, \
    unsigned s0, unsigned s1, unsigned s2, unsigned s3, unsigned s4, unsigned s5
#define BROADCAST_WALK_ARRAYS \
    const int e[BROADCAST_MAX_RANK] = {e0, e1, e2, e3, e4, e5}; \
    const unsigned m[BROADCAST_MAX_RANK] = {m0, m1, m2, m3, m4, m5}; \
    const unsigned s[BROADCAST_MAX_RANK] = {s0, s1, s2, s3, s4, s5}

// y = a op b with numpy broadcasting over y's coalesced shape of `rank` axes, given innermost first (see
// broadcast_offsets; GpuDevice.BroadcastWalk builds the arguments). Adjacent threads write adjacent y and read
// adjacent (or the same) a and b elements, so every access is coalesced or a broadcast.
extern "C" __global__ void binary_forward_kernel(float* __restrict__ y, const float* __restrict__ a, const float* __restrict__ b, int n, int op,
                                                 BROADCAST_WALK_PARAMS,
                                                 int as0, int as1, int as2, int as3, int as4, int as5,
                                                 int bs0, int bs1, int bs2, int bs3, int bs4, int bs5) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    BROADCAST_WALK_ARRAYS;
    const int sa[BROADCAST_MAX_RANK] = {as0, as1, as2, as3, as4, as5};
    const int sb[BROADCAST_MAX_RANK] = {bs0, bs1, bs2, bs3, bs4, bs5};
    long long oa, ob;
    broadcast_offsets<BROADCAST_MAX_RANK>(i, rank, e, m, s, sa, sb, &oa, &ob);
    const float va = a[oa];
    const float vb = b[ob];
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
// otherwise y·beta (skipped for beta = 1) plus x (times alpha unless alpha = 1). One rule for axpby_kernel and
// axpby_group_kernel.
__device__ __forceinline__ void axpby_element(float* y, const float* x, int i, float alpha, float beta) {
    if (beta == 0.0f) {
        y[i] = x[i] * alpha;
        return;
    }
    const float t = beta == 1.0f ? y[i] : y[i] * beta;
    y[i] = alpha == 1.0f ? t + x[i] : x[i] * alpha + t;
}

extern "C" __global__ void axpby_kernel(float* __restrict__ y, const float* __restrict__ x, int n, float alpha, float beta) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    axpby_element(y, x, i, alpha, beta);
}

// ---- many small tensors in one launch: addresses by value in the launch parameters ---------------------------------
// As adam_tensor_list (optim.cuh): nothing lives in device memory, so nothing is uploaded when the tensors come back
// from the caching allocator at new addresses step after step. The launch ABI puts a struct parameter first
// (GpuDevice.LaunchWithStruct), so these kernels take their list before the other operands; the C# writers
// (Device/TensorList.cs, Device/WeightedSumTerms.cs) lay the structs out byte for byte, and the launch's size
// check against sizeof keeps the two in step.

// y_k = alpha·x_k + beta·y_k for every pair k of the list (IBackend.AxpbyGroup: the trainer's running loss sums, one
// launch for all of them). One thread per element of the pairs' concatenation, grid = CEIL_DIV(offset[tensors], block);
// a thread finds its pair by a linear scan of at most AXPBY_GROUP_TENSORS offsets.
#define AXPBY_GROUP_TENSORS 16
struct axpby_group_list {
    float* y[AXPBY_GROUP_TENSORS];
    const float* x[AXPBY_GROUP_TENSORS];
    int offset[AXPBY_GROUP_TENSORS + 1]; // element offsets of the pairs in the concatenation; offset[tensors] = its total
    int tensors;
};

extern "C" __global__ void __launch_bounds__(1024) axpby_group_kernel(axpby_group_list list, float alpha, float beta) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= list.offset[list.tensors]) return;
    int k = 0;
    while (list.offset[k + 1] <= i) k++;
    axpby_element(list.y[k], list.x[k], i - list.offset[k], alpha, beta);
}

// y = Σ_k weight_k·x_k over `count` tensors of one length n (IBackend.WeightedSum*: the ELBO, reconstruction + β·KL,
// as one op), added in k order from weight_0·x_0 as the CPU backend does. Backward: dx_k = weight_k·dy, every term in
// one launch. One thread per element, grid = CEIL_DIV(n, block); `terms.tensor` are the inputs forward and the
// outputs backward.
#define WEIGHTED_SUM_TERMS 8
struct weighted_sum_terms {
    float* tensor[WEIGHTED_SUM_TERMS];
    float weight[WEIGHTED_SUM_TERMS];
    int count;
};

extern "C" __global__ void __launch_bounds__(1024) weighted_sum_forward_kernel(weighted_sum_terms terms, float* __restrict__ y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float s = terms.weight[0] * terms.tensor[0][i];
    for (int k = 1; k < terms.count; k++) s += terms.weight[k] * terms.tensor[k][i];
    y[i] = s;
}

extern "C" __global__ void __launch_bounds__(1024) weighted_sum_backward_kernel(weighted_sum_terms terms, const float* __restrict__ dy, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float g = dy[i];
    for (int k = 0; k < terms.count; k++) terms.tensor[k][i] = terms.weight[k] * g;
}

#ifdef BLURVAE_HOST_EMULATION
BLURVAE_HOST_KERNEL_NO_SYNC(unary_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(unary_backward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(binary_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(axpby_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(axpby_group_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(weighted_sum_forward_kernel)
BLURVAE_HOST_KERNEL_NO_SYNC(weighted_sum_backward_kernel)
#endif

// kernels/host/cuda_host.h — a host emulation of the CUDA execution model, so that kernels.cu compiles with g++
// (-DBLURVAE_HOST_EMULATION) into a shared library that CI runs without a GPU. See kernels/README.md.
//
// Design: every block runs on one OS thread. A kernel registered with BLURVAE_HOST_KERNEL runs one ucontext fiber per
// CUDA thread; the fibers run round-robin, each up to its next __syncthreads (all threads of the block must arrive)
// or warp shuffle (all lanes of its warp must arrive). A kernel registered with BLURVAE_HOST_KERNEL_NO_SYNC runs its
// threads as a plain loop, which is much faster; a barrier or shuffle reached there is reported as an error.
// __shared__ is `static thread_local`: one copy per OS thread, and an OS thread runs one block at a time.
// Blocks run in parallel on up to hardware_concurrency OS threads (BLURVAE_HOST_THREADS overrides).
#pragma once
#ifndef BLURVAE_HOST_EMULATION
#error "cuda_host.h is the host emulation of CUDA; compile with -DBLURVAE_HOST_EMULATION"
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __shared__ static thread_local
#define __restrict__ __restrict
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)

struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };
inline thread_local uint3 threadIdx, blockIdx;
inline thread_local dim3 blockDim, gridDim;
constexpr int warpSize = 32;

namespace blurvae_host {

// Error codes returned by blurvae_launch; BlurVae.Kernels/Emulated/HostLaunchError.cs mirrors them.
enum Error : int { kOk = 0, kUnknownKernel = 1, kInvalidConfiguration = 2, kBadArguments = 3,
                   kBarrierMismatch = 4, kShuffleMismatch = 5, kSyncInPlainKernel = 6, kShuffleMaskExcludesLane = 7 };
enum class State : uint8_t { Runnable, AtBarrier, AtShuffle, Done };

struct Fiber { ucontext_t ctx; uint3 tid; State state; unsigned barriers; unsigned shuffles; };

constexpr size_t kStackBytes = 64 * 1024;
constexpr unsigned kMaxThreads = 1024;

// Fiber stacks outlive the worker threads of one launch and are reused by the next.
struct StackPool {
    std::mutex mu;
    std::vector<char*> free;
    char* take() { std::lock_guard<std::mutex> g(mu); if (free.empty()) return static_cast<char*>(malloc(kStackBytes)); char* s = free.back(); free.pop_back(); return s; }
    void give(char* s) { std::lock_guard<std::mutex> g(mu); free.push_back(s); }
};
inline StackPool g_stacks;

// The state of the block that this OS thread is running.
struct Runner {
    ucontext_t scheduler;
    std::vector<Fiber> fibers;
    std::vector<char*> stacks;
    Fiber* current = nullptr;
    bool fiberMode = false;
    int error = kOk;
    std::string message;
    void (*thunk)(void**) = nullptr;
    void** args = nullptr;
    unsigned threads = 0;
    uint64_t exchange[kMaxThreads / 32][2][32]; // per-warp shuffle slots, double-buffered by shuffle parity
    ~Runner() { for (char* s : stacks) g_stacks.give(s); }
};
inline thread_local Runner t_runner;

inline void fail(int code, const std::string& what) {
    Runner& r = t_runner;
    if (r.error != kOk) return;
    r.error = code;
    r.message = what + " (block " + std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) + ")";
}

inline unsigned linear(uint3 t) { return t.x + blockDim.x * (t.y + blockDim.y * t.z); }
inline uint3 unlinear(unsigned i, unsigned nx, unsigned ny) { return uint3{i % nx, (i / nx) % ny, i / (nx * ny)}; }

inline void yield(State s) {
    Runner& r = t_runner;
    Fiber* f = r.current;
    f->state = s;
    swapcontext(&f->ctx, &r.scheduler);
}

// Every existing lane of the warp publishes v, waits for the others, then reads the lane `source(lane)` picks
// (its own value where that lane is out of range, as CUDA does).
// A calling lane missing from `mask` is undefined behaviour on a GPU (CUDA: "each calling thread must have its own bit
// set in the mask"), so it fails the launch here.
template <typename T, typename F>
T warp_exchange(unsigned mask, T v, F source) {
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    Runner& r = t_runner;
    if (!r.fiberMode) { fail(kSyncInPlainKernel, "warp shuffle in a kernel registered with BLURVAE_HOST_KERNEL_NO_SYNC"); return v; }
    const unsigned lin = linear(r.current->tid), warp = lin / 32, lane = lin % 32;
    if ((mask >> lane & 1u) == 0) {
        char hex[16];
        snprintf(hex, sizeof hex, "0x%08x", mask);
        fail(kShuffleMaskExcludesLane, "thread " + std::to_string(lin) + " (lane " + std::to_string(lane) + ") calls a warp shuffle or __syncwarp whose mask " + hex + " does not include it");
        return v;
    }
    const unsigned buf = r.current->shuffles++ & 1;
    uint64_t raw = 0;
    memcpy(&raw, &v, sizeof(T));
    r.exchange[warp][buf][lane] = raw;
    yield(State::AtShuffle);
    const int src = source(static_cast<int>(lane));
    const unsigned lanes = std::min(32u, r.threads - warp * 32);
    if (src < 0 || static_cast<unsigned>(src) >= lanes) return v;
    T out;
    memcpy(&out, &r.exchange[warp][buf][src], sizeof(T));
    return out;
}

inline void fiber_entry() {
    Runner& r = t_runner;
    r.thunk(r.args);
    r.current->state = State::Done; // returning resumes uc_link, the scheduler
}

// Runs one block as fibers; records a barrier or shuffle mismatch in the runner.
inline void run_block_fibers(Runner& r) {
    const unsigned n = r.threads;
    if (r.fibers.size() < n) r.fibers.resize(n);
    while (r.stacks.size() < n) r.stacks.push_back(g_stacks.take());
    for (unsigned i = 0; i < n; i++) {
        Fiber& f = r.fibers[i];
        f.tid = unlinear(i, blockDim.x, blockDim.y);
        f.state = State::Runnable;
        f.barriers = f.shuffles = 0;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = r.stacks[i];
        f.ctx.uc_stack.ss_size = kStackBytes;
        f.ctx.uc_link = &r.scheduler;
        makecontext(&f.ctx, fiber_entry, 0);
    }
    const unsigned warps = (n + 31) / 32;
    for (;;) {
        for (unsigned i = 0; i < n; i++) {
            Fiber& f = r.fibers[i];
            if (f.state != State::Runnable) continue;
            r.current = &f;
            threadIdx = f.tid;
            swapcontext(&r.scheduler, &f.ctx);
        }
        bool released = false;
        for (unsigned w = 0; w < warps; w++) {
            unsigned end = std::min(n, (w + 1) * 32), i = w * 32;
            while (i < end && r.fibers[i].state == State::AtShuffle) i++;
            if (i < end) continue;
            for (i = w * 32; i < end; i++) r.fibers[i].state = State::Runnable;
            released = true;
        }
        if (released) continue;
        unsigned done = 0, shuffle = 0, done_at = 0, wait_at = 0;
        for (unsigned i = 0; i < n; i++) {
            const Fiber& f = r.fibers[i];
            if (f.state == State::Done) { done++; done_at = i; }
            else { wait_at = i; if (f.state == State::AtShuffle) shuffle++; }
        }
        if (done == n) return;
        if (shuffle > 0) { fail(kShuffleMismatch, "thread " + std::to_string(wait_at) + " waits at a warp shuffle that other lanes of its warp never reach"); return; }
        if (done > 0) {
            fail(kBarrierMismatch, "thread " + std::to_string(done_at) + " exited after " + std::to_string(r.fibers[done_at].barriers) +
                 " __syncthreads while thread " + std::to_string(wait_at) + " waits at barrier " + std::to_string(r.fibers[wait_at].barriers));
            return;
        }
        for (unsigned i = 0; i < n; i++) r.fibers[i].state = State::Runnable;
    }
}

struct KernelInfo { const char* name; void (*thunk)(void**); bool sync; unsigned arity; const unsigned* sizes; };
inline std::vector<KernelInfo>& registry() { static std::vector<KernelInfo> k; return k; }
inline bool register_kernel(KernelInfo k) { registry().push_back(k); return true; }

// Unpacks driver-style arguments (args[i] points at the i-th argument) by the kernel's own parameter types.
template <typename... A, size_t... I>
inline void call_unpacked(void (*k)(A...), void** args, std::index_sequence<I...>) { k(*static_cast<std::remove_reference_t<A>*>(args[I])...); }
template <typename... A> constexpr unsigned arity_of(void (*)(A...)) { return sizeof...(A); }
template <typename... A> const unsigned* sizes_of(void (*)(A...)) { static const unsigned s[] = {static_cast<unsigned>(sizeof(A))..., 0u}; return s; }
template <auto K> void thunk(void** args) { call_unpacked(K, args, std::make_index_sequence<arity_of(K)>{}); }

} // namespace blurvae_host

#define BLURVAE_HOST_REGISTER(kernel, sync) \
    static const bool blurvae_registered_##kernel = ::blurvae_host::register_kernel( \
        {#kernel, &::blurvae_host::thunk<&kernel>, sync, ::blurvae_host::arity_of(&kernel), ::blurvae_host::sizes_of(&kernel)});
// A kernel that may use __syncthreads or warp shuffles: its threads run as fibers.
#define BLURVAE_HOST_KERNEL(kernel) BLURVAE_HOST_REGISTER(kernel, true)
// A kernel without barriers or shuffles: its threads run as a plain loop.
#define BLURVAE_HOST_KERNEL_NO_SYNC(kernel) BLURVAE_HOST_REGISTER(kernel, false)

// ---- the CUDA device API our kernels use ----
inline void __syncthreads() {
    blurvae_host::Runner& r = blurvae_host::t_runner;
    if (!r.fiberMode) { blurvae_host::fail(blurvae_host::kSyncInPlainKernel, "__syncthreads in a kernel registered with BLURVAE_HOST_KERNEL_NO_SYNC"); return; }
    r.current->barriers++;
    blurvae_host::yield(blurvae_host::State::AtBarrier);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) { blurvae_host::warp_exchange(mask, 0, [](int lane) { return lane; }); }
// The calling lane must be in the mask (checked); beyond that, every existing lane of the warp must take part, as in
// all our kernels: partial masks are not emulated.
template <typename T> T __shfl_sync(unsigned mask, T v, int src, int width = warpSize) {
    return blurvae_host::warp_exchange(mask, v, [=](int lane) { return lane / width * width + src % width; });
}
template <typename T> T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
    return blurvae_host::warp_exchange(mask, v, [=](int lane) { return lane % width + static_cast<int>(delta) < width ? lane + static_cast<int>(delta) : lane; });
}
template <typename T> T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
    return blurvae_host::warp_exchange(mask, v, [=](int lane) { return lane % width >= static_cast<int>(delta) ? lane - static_cast<int>(delta) : lane; });
}
template <typename T> T __shfl_xor_sync(unsigned mask, T v, int laneMask, int width = warpSize) {
    return blurvae_host::warp_exchange(mask, v, [=](int lane) { int s = lane ^ laneMask; return s >= (lane / width + 1) * width ? lane : s; });
}

inline float atomicAdd(float* address, float val) {
    uint32_t* p = reinterpret_cast<uint32_t*>(address);
    uint32_t old = __atomic_load_n(p, __ATOMIC_RELAXED), next;
    float f;
    do { memcpy(&f, &old, 4); float s = f + val; memcpy(&next, &s, 4); }
    while (!__atomic_compare_exchange_n(p, &old, next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return f;
}
inline int atomicAdd(int* address, int val) { return __atomic_fetch_add(address, val, __ATOMIC_RELAXED); }
inline unsigned atomicAdd(unsigned* address, unsigned val) { return __atomic_fetch_add(address, val, __ATOMIC_RELAXED); }

// A full fence: the host threads that run blocks see each other's writes in CUDA's __threadfence order.
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return fminf(fmaxf(x, 0.0f), 1.0f); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }

#define __align__(n) __attribute__((aligned(n)))

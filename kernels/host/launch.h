// kernels/host/launch.h — the C ABI of the host kernels library (libblurvae_kernels_host.so), included once at the
// end of kernels.cu in the host build. BlurVae.Kernels/Emulated/HostKernelLibrary.cs binds these functions.
//
//   int blurvae_check_launch(...same parameters...);  // the checks alone; runs nothing
//   int blurvae_launch(const char* kernel, unsigned gridX, gridY, gridZ, unsigned blockX, blockY, blockZ,
//                      unsigned sharedBytes, void** args, unsigned argCount, const unsigned* argSizes);
//
// args is what cuLaunchKernel takes as kernelParams: args[i] points at the value of the kernel's i-th parameter.
// argCount and argSizes (nullable) are checked against the kernel's parameter list. Returns 0 or a
// blurvae_host::Error; blurvae_last_error() then describes it (per calling thread).
#pragma once
#include "cuda_host.h"

namespace blurvae_host {

inline thread_local std::string t_last_error;

inline int report(int code, const std::string& what) { t_last_error = what; return code; }

inline unsigned worker_count(uint64_t blocks) {
    unsigned n = std::max(1u, std::thread::hardware_concurrency());
    if (const char* env = getenv("BLURVAE_HOST_THREADS")) { int v = atoi(env); if (v >= 1) n = static_cast<unsigned>(v); }
    return static_cast<unsigned>(std::min<uint64_t>(n, blocks));
}

// Everything a launch checks before it runs a thread: the kernel exists, the geometry is within CUDA's limits, the
// arguments match the parameter list. Shared by launch and by blurvae_check_launch (the recording device's check).
inline int validate(const char* name, dim3 grid, dim3 block, unsigned sharedBytes, void** args, unsigned argCount,
                    const unsigned* argSizes, const KernelInfo*& found) {
    if (name == nullptr) return report(kUnknownKernel, "kernel name is null");
    const KernelInfo* k = nullptr;
    for (const KernelInfo& info : registry()) if (strcmp(info.name, name) == 0) { k = &info; break; }
    if (k == nullptr) return report(kUnknownKernel, std::string("no kernel named '") + name + "' in the host kernels library");
    const std::string kn = std::string("kernel '") + name + "': ";
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0)
        return report(kInvalidConfiguration, kn + "grid and block dimensions must be >= 1");
    if (grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
        return report(kInvalidConfiguration, kn + "grid exceeds CUDA's limits (2^31-1, 65535, 65535)");
    if (block.x > 1024 || block.y > 1024 || block.z > 64 || uint64_t(block.x) * block.y * block.z > kMaxThreads)
        return report(kInvalidConfiguration, kn + "block exceeds CUDA's limits (1024 threads, z <= 64)");
    if (sharedBytes != 0)
        return report(kInvalidConfiguration, kn + "dynamic shared memory is not emulated; use a fixed-size __shared__ array");
    if (argCount != k->arity)
        return report(kBadArguments, kn + "takes " + std::to_string(k->arity) + " arguments, got " + std::to_string(argCount));
    if (k->arity > 0 && args == nullptr) return report(kBadArguments, kn + "args is null");
    for (unsigned i = 0; i < argCount; i++) {
        if (args[i] == nullptr) return report(kBadArguments, kn + "argument " + std::to_string(i) + " is a null pointer to its value");
        if (argSizes != nullptr && argSizes[i] != k->sizes[i])
            return report(kBadArguments, kn + "argument " + std::to_string(i) + " has " + std::to_string(argSizes[i]) +
                          " bytes, the parameter " + std::to_string(k->sizes[i]));
    }
    found = k;
    return kOk;
}

inline int launch(const char* name, dim3 grid, dim3 block, unsigned sharedBytes, void** args, unsigned argCount, const unsigned* argSizes) {
    const KernelInfo* k = nullptr;
    if (int rc = validate(name, grid, block, sharedBytes, args, argCount, argSizes, k); rc != kOk) return rc;
    const std::string kn = std::string("kernel '") + name + "': ";

    const uint64_t blocks = uint64_t(grid.x) * grid.y * grid.z;
    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    int firstError = kOk;
    std::string firstMessage;
    auto worker = [&]() {
        gridDim = grid;
        blockDim = block;
        Runner& r = t_runner;
        r.error = kOk;
        r.thunk = k->thunk;
        r.args = args;
        r.threads = block.x * block.y * block.z;
        r.fiberMode = k->sync;
        r.current = nullptr;
        for (uint64_t b; !failed.load(std::memory_order_relaxed) && (b = next.fetch_add(1)) < blocks;) {
            blockIdx = uint3{unsigned(b % grid.x), unsigned(b / grid.x % grid.y), unsigned(b / (uint64_t(grid.x) * grid.y))};
            if (k->sync) run_block_fibers(r);
            else
                for (unsigned i = 0; i < r.threads; i++) { threadIdx = unlinear(i, block.x, block.y); r.thunk(r.args); }
            if (r.error != kOk) {
                std::lock_guard<std::mutex> g(mu);
                if (firstError == kOk) { firstError = r.error; firstMessage = r.message; }
                failed = true;
            }
        }
    };
    const unsigned workers = worker_count(blocks);
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < workers; i++) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    if (firstError != kOk) return report(firstError, kn + firstMessage);
    t_last_error.clear();
    return kOk;
}

} // namespace blurvae_host

#define BLURVAE_EXPORT extern "C" __attribute__((visibility("default")))

BLURVAE_EXPORT int blurvae_launch(const char* kernel, unsigned gridX, unsigned gridY, unsigned gridZ,
                                  unsigned blockX, unsigned blockY, unsigned blockZ, unsigned sharedBytes,
                                  void** args, unsigned argCount, const unsigned* argSizes) {
    return blurvae_host::launch(kernel, dim3{gridX, gridY, gridZ}, dim3{blockX, blockY, blockZ}, sharedBytes, args, argCount, argSizes);
}
// The checks of blurvae_launch without running the kernel: 0 or a blurvae_host::Error, as blurvae_launch returns.
BLURVAE_EXPORT int blurvae_check_launch(const char* kernel, unsigned gridX, unsigned gridY, unsigned gridZ,
                                        unsigned blockX, unsigned blockY, unsigned blockZ, unsigned sharedBytes,
                                        void** args, unsigned argCount, const unsigned* argSizes) {
    const blurvae_host::KernelInfo* k = nullptr;
    int rc = blurvae_host::validate(kernel, dim3{gridX, gridY, gridZ}, dim3{blockX, blockY, blockZ}, sharedBytes, args, argCount, argSizes, k);
    if (rc == blurvae_host::kOk) blurvae_host::t_last_error.clear();
    return rc;
}
BLURVAE_EXPORT const char* blurvae_last_error() { return blurvae_host::t_last_error.c_str(); }
BLURVAE_EXPORT int blurvae_kernel_count() { return static_cast<int>(blurvae_host::registry().size()); }
BLURVAE_EXPORT const char* blurvae_kernel_name(int i) {
    return i >= 0 && i < blurvae_kernel_count() ? blurvae_host::registry()[static_cast<size_t>(i)].name : nullptr;
}

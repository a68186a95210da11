// std::ios_base_library_init() for a libstdc++ older than GCC 13's (GLIBCXX_3.4.32), e.g. Debian 12's (3.4.30).
// TorchSharp 0.107's libLibTorchSharp.so was built with GCC 13, whose <iostream> calls this function to initialise the
// standard streams once; GCC 12's libstdc++ does the same with an ios_base::Init object, so constructing one here is
// what the newer function does. tools/libtorch-bench.sh builds this into libglibcxx32shim.so and makes the wrapper's
// copy take the symbol from it (see weak_version_need.py for the other half).
#include <ios>

namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}

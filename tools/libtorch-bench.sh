#!/usr/bin/env bash
# libtorch-bench.sh [--no-smoke]
#
# Builds bench/BlurVae.LibTorchBench (reference/pytorch/bench.py ported to TorchSharp 0.107 = libtorch 2.10, CPU) and
# prepares the native libraries it loads, for `blurvae bench --against libtorch`. Not part of BlurVae.sln or CI: the
# first build restores TorchSharp-cpu (~600 MB of NuGet packages). Safe to run again (it redoes every step).
#
# Why a patch: libtorch 2.10's own libraries load on Debian 12, but TorchSharp's wrapper libLibTorchSharp.so was built
# with GCC 13 and needs GLIBCXX_3.4.32 for one function, std::ios_base_library_init(); Debian 12's libstdc++ has
# 3.4.30. The script puts into bin/Release/net10.0/libtorch-native/ (the build copies no native library there, so no
# rebuild overwrites it):
#   - links to libtorch-cpu-linux-x64 2.10.0's libraries in the NuGet cache;
#   - libglibcxx32shim.so, compiled from bench/BlurVae.LibTorchBench/native/glibcxx32shim.cpp (that one function);
#   - a copy of libLibTorchSharp.so with the function's symbol version cleared (patchelf --clear-symbol-version), the
#     shim added as a needed library (patchelf --add-needed), and its GLIBCXX_3.4.32 need marked weak
#     (native/weak_version_need.py).
# Then it runs the benchmark once at a tiny size. Needs: dotnet (10), g++, python3, patchelf (installed with apt-get
# when missing and run as root). Exit code 0 when the smoke run printed libtorch 2.10's JSON, else 1.
set -eu

usage() { echo "usage: $0 [--no-smoke]   (build bench/BlurVae.LibTorchBench and patch TorchSharp's wrapper for this libstdc++)"; }
smoke=1
for a in "$@"; do
    case $a in
        -h|--help) usage; exit 0 ;;
        --no-smoke) smoke=0 ;;
        *) echo "$0: unknown option '$a'" >&2; usage >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
project=$root/bench/BlurVae.LibTorchBench
out=$project/bin/Release/net10.0
native=$out/libtorch-native
libtorch_version=2.10.0
torchsharp_version=$(sed -n 's/.*Include="TorchSharp-cpu" Version="\([^"]*\)".*/\1/p' "$root/Directory.Packages.props")
fail() { echo "libtorch-bench.sh: $*" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1; }
need dotnet || fail "dotnet not found: install the .NET 10 SDK (README.md, Set-up) and run this again."
need g++ || fail "g++ not found (it compiles the libstdc++ shim): apt-get install -y g++"
need python3 || fail "python3 not found (it marks the wrapper's GLIBCXX_3.4.32 need weak): apt-get install -y python3"
if ! need patchelf; then
    if [ "$(id -u)" = 0 ] && need apt-get; then
        echo "libtorch-bench.sh: installing patchelf (apt-get install -y patchelf)"
        apt-get install -y patchelf >/dev/null || { apt-get update >/dev/null && apt-get install -y patchelf >/dev/null; } \
            || fail "apt-get could not install patchelf; install it and run this again."
    else
        fail "patchelf not found: sudo apt-get install -y patchelf, then run this again."
    fi
fi
[ -n "$torchsharp_version" ] || fail "no TorchSharp-cpu version in $root/Directory.Packages.props"

echo "libtorch-bench.sh: building $project (the first build restores TorchSharp-cpu $torchsharp_version, ~600 MB)"
dotnet build "$project" -c Release -nologo -v quiet || fail "dotnet build of $project failed (see above)."

packages=$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')
packages=${packages%/}
libtorch=$packages/libtorch-cpu-linux-x64/$libtorch_version/runtimes/linux-x64/native
wrapper=$packages/torchsharp/$torchsharp_version/runtimes/linux-x64/native/libLibTorchSharp.so
[ -f "$libtorch/libtorch_cpu.so" ] || fail "$libtorch/libtorch_cpu.so not found: the restore did not bring libtorch-cpu-linux-x64 $libtorch_version (run: dotnet restore $project)."
[ -f "$wrapper" ] || fail "$wrapper not found: the restore did not bring TorchSharp $torchsharp_version (run: dotnet restore $project)."

rm -rf "$native"
mkdir -p "$native"
for f in "$libtorch"/*.so*; do ln -s "$f" "$native/"; done
g++ -shared -fPIC -O2 -o "$native/libglibcxx32shim.so" "$project/native/glibcxx32shim.cpp" || fail "g++ could not compile the shim."
cp "$wrapper" "$native/libLibTorchSharp.so"
chmod u+w "$native/libLibTorchSharp.so"
if readelf -V "$native/libLibTorchSharp.so" | grep -q GLIBCXX_3.4.32 && ! strings -a "$(g++ -print-file-name=libstdc++.so.6)" | grep -qx GLIBCXX_3.4.32; then
    patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$native/libLibTorchSharp.so"
    patchelf --add-needed libglibcxx32shim.so "$native/libLibTorchSharp.so"
    python3 "$project/native/weak_version_need.py" "$native/libLibTorchSharp.so" GLIBCXX_3.4.32
else
    echo "libtorch-bench.sh: this libstdc++ has GLIBCXX_3.4.32 (or the wrapper does not need it): wrapper used unpatched"
fi

if [ $smoke = 1 ]; then
    echo "libtorch-bench.sh: smoke run (a tiny model, one step)"
    json=$(dotnet "$out/BlurVae.LibTorchBench.dll" --arch A --image-channels 1 --side 8 --channels 4,8 --latent 2 --kernel 3 \
        --batch 2 --loss wiener --device cpu --threads 1 --warmup 1 --steps 1 --part step) \
        || fail "the smoke run failed (its error is above)."
    echo "$json"
    case $json in
        *'"engine":"libtorch"'*'"torch":"2.10.'*) ;;
        *) fail "the smoke run did not print libtorch 2.10's JSON." ;;
    esac
fi
echo "libtorch-bench.sh: ready: blurvae bench --against libtorch (or run dotnet $out/BlurVae.LibTorchBench.dll --help)"

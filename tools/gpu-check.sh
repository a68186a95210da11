#!/usr/bin/env bash
# gpu-check.sh OUTDIR [--device cuda|emulated] [--dry-run]
#
# One command for a GPU machine without .NET, run from the published folder (`dotnet pwsh ./build.ps1 publish` copies
# this script to artifacts/publish/linux-x64/tools/, beside `blurvae` and reference/pytorch/). Within 8 minutes it
# runs, writing every result as JSON into OUTDIR:
#   selftest.json                  blurvae selftest --device cuda: the backend parity suite on the device
#   bench-fashion32.json           blurvae bench --device cuda --against pytorch --config fashion32
#   bench-celeba64.json            the same for celeba64
#   profile.{fashion32,celeba64}.json   blurvae profile (the step's structure, counted without running it)
#   pytorch-ops-{fashion32,celeba64}.json   reference/pytorch/bench.py --count-ops (torch.profiler, on the device)
#   nvidia-smi.txt, summary.json   the GPU, and each command with its exit code, seconds and log file
# bench finds PyTorch itself (BlurVae.Training/Benchmarks/TorchPython.cs: the first of $BLURVAE_PYTHON,
# $VIRTUAL_ENV/bin/python, /opt/torch/.venv/bin/python, python3, /usr/bin/python3 that imports torch) and reports it
# as unavailable, never as a number, without one; the operator counts use the same order (mirrored below).
# --device emulated runs the same chain on the host emulation at small sizes (for checking the script without a GPU);
# --dry-run writes summary.json with the commands and runs nothing. Exit code: 0 when every command exited 0, else 1.
set -u

usage() { echo "usage: $0 OUTDIR [--device cuda|emulated] [--dry-run]" >&2; exit 2; }
# Options may come before or after OUTDIR; --help prints the usage (exit 0) instead of creating a folder named --help.
out=""; device=cuda; dry=0
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) echo "usage: $0 OUTDIR [--device cuda|emulated] [--dry-run]"; exit 0 ;;
        --device) [ $# -ge 2 ] || usage; device=$2; shift 2 ;;
        --dry-run) dry=1; shift ;;
        -*) echo "$0: unknown option '$1'" >&2; usage ;;
        *) [ -z "$out" ] || { echo "$0: a second OUTDIR '$1' (the first is '$out')" >&2; usage; }; out=$1; shift ;;
    esac
done
[ -n "$out" ] || { echo "$0: OUTDIR is missing: the folder the JSON results go to" >&2; usage; }
case $device in cuda|emulated) ;; *) echo "$0: --device must be cuda or emulated (got '$device')" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
blurvae=${BLURVAE:-$root/blurvae}
bench_py=$root/reference/pytorch/bench.py
mkdir -p "$out" || { echo "$0: cannot create $out" >&2; exit 2; }
out=$(cd "$out" && pwd)
if [ $dry -eq 0 ] && [ ! -x "$blurvae" ]; then echo "$0: $blurvae not found or not executable (run from the published folder, or set BLURVAE)" >&2; exit 2; fi

python=""
for candidate in ${BLURVAE_PYTHON:-} ${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python} /opt/torch/.venv/bin/python python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import torch" >/dev/null 2>&1; then python=$candidate; break; fi
done

# Per-command limits (seconds) that add up to under 8 minutes; the emulation runs smaller work.
if [ "$device" = cuda ]; then
    selftest_args=""; bench_args="--repeats 3 --steps 10 --warmup 3"; bench_configs="fashion32 celeba64"
    t_selftest=120; t_bench_fashion32=75; t_bench_celeba64=140; t_profile=40; t_ops=35; ops_warmup=2
else
    selftest_args="--quick"; bench_args="--repeats 1 --steps 1 --warmup 0 --part loss"; bench_configs="fashion32"
    t_selftest=150; t_bench_fashion32=120; t_bench_celeba64=0; t_profile=40; t_ops=150; ops_warmup=0
fi

entries=()
failed=0
# run NAME TIMEOUT COMMAND...: runs it with a limit, its output in OUTDIR/NAME.log, and records it for summary.json.
run() {
    local name=$1 limit=$2; shift 2
    local cmd="$*" rc=0 start end
    start=$(date +%s)
    if [ $dry -eq 1 ]; then rc=0
    else timeout --kill-after=5 "$limit" "$@" >"$out/$name.log" 2>&1 || rc=$?
    fi
    end=$(date +%s)
    [ $rc -eq 0 ] || failed=1
    cmd=${cmd//\\/\\\\}; cmd=${cmd//\"/\\\"}
    entries+=("{\"name\": \"$name\", \"command\": \"$cmd\", \"exit_code\": $rc, \"timed_out\": $([ $rc -eq 124 ] || [ $rc -eq 137 ] && echo true || echo false), \"seconds\": $((end - start)), \"log\": \"$name.log\"}")
}

began=$(date +%s)
[ $dry -eq 1 ] || { nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || echo "nvidia-smi not available" >"$out/nvidia-smi.txt"; }
run selftest "$t_selftest" "$blurvae" selftest --device "$device" $selftest_args --json "$out/selftest.json"
for config in $bench_configs; do
    limit_var=t_bench_$config
    run "bench-$config" "${!limit_var}" "$blurvae" bench --device "$device" --config "$config" --against pytorch $bench_args --json "$out/bench-$config.json"
done
run profile "$t_profile" "$blurvae" profile --config all --json "$out/profile.json"
if [ -n "$python" ]; then
    torch_device=$([ "$device" = cuda ] && echo cuda || echo cpu)
    for config in fashion32 celeba64; do
        if [ "$config" = fashion32 ]; then model="--image-channels 1 --side 32 --channels 32,64,128,256 --latent 32"
        else model="--image-channels 3 --side 64 --channels 64,128,256,512 --latent 256"; fi
        [ "$device" = cuda ] || [ "$config" = fashion32 ] || continue
        run "pytorch-ops-$config" "$t_ops" "$python" "$bench_py" --arch A $model --kernel 11 --batch 64 --loss wiener --mlp-hidden 512 \
            --device "$torch_device" --threads 4 --warmup $ops_warmup --steps 1 --part step --count-ops "$out/pytorch-ops-$config.json"
    done
fi

{
    echo "{"
    echo "  \"device\": \"$device\", \"dry_run\": $([ $dry -eq 1 ] && echo true || echo false),"
    echo "  \"python\": \"${python}\", \"seconds\": $(( $(date +%s) - began )),"
    echo "  \"commands\": ["
    for i in "${!entries[@]}"; do
        sep=","; [ "$i" -eq $(( ${#entries[@]} - 1 )) ] && sep=""
        echo "    ${entries[$i]}$sep"
    done
    echo "  ]"
    echo "}"
} >"$out/summary.json"
echo "gpu-check: results in $out (summary.json)$([ $failed -eq 0 ] || echo '; some commands failed, see their logs')"
exit $failed

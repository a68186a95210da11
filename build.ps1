#!/usr/bin/env pwsh
# BlurVae build script. Run through the repo-local PowerShell tool:
#   dotnet tool restore
#   dotnet pwsh ./build.ps1 <task> [options]
# Tasks:
#   build            Release build of the whole solution.
#   test             Every NUnit test; ends with the plain line "N passed, N failed[, N skipped]".
#                    -Filter "TestCategory=GradCheck" narrows it (dotnet test filter syntax).
#   bench            The benchmarks: our CPU GEMM against OpenBLAS (needs Debian's libopenblas0-pthread; see `deps`),
#                    the effective GFLOP/s of the CPU convolutions, then `blurvae bench --config fashion32 --against
#                    pytorch` (the full training step and the loss alone, ours against reference/pytorch/bench.py with
#                    Debian's python3-torch, 2 threads each, interleaved), with OpenBLAS's SGEMM figure as --sgemm-gflops.
#                    Results go to artifacts/bench/ (step.json, step.md); nothing in docs/ is touched.
#                    -Celeba adds the celeba64 configuration (--config all); -Micro also runs the BenchmarkDotNet
#                    micro-benchmarks of the CPU ops.
#   publish          The self-contained, trimmed, single-file `blurvae` for linux-x64 (no .NET needed where it runs,
#                    e.g. the lent GPU machine) in artifacts/publish/linux-x64/, with tools/gpu-check.sh and
#                    reference/pytorch/*.py; fails when the folder exceeds 64 MiB.
#   ptx              Compiles kernels.cu to PTX with NVRTC (the test that CI runs), and also with nvcc when nvcc is on
#                    PATH or in $CUDA_PATH/bin, into artifacts/ptx/ (-Arch 90 by default).
#   deps             Installs the Debian packages the benchmarks use (apt-get; only when run as root).
#   clean            Removes bin/, obj/ and artifacts/.
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'bench', 'publish', 'ptx', 'deps', 'clean')]
    [string]$Task = 'build',
    [string]$Filter = '',
    [switch]$Micro,
    [switch]$Celeba,
    [int]$Arch = 90
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot
$Artifacts = Join-Path $Root 'artifacts'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Checked([string]$What, [scriptblock]$Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE" }
}

function Invoke-Build {
    Invoke-Checked 'dotnet build' { dotnet build (Join-Path $Root 'BlurVae.sln') -c Release --nologo -v minimal }
}

function Invoke-Test {
    Invoke-Build
    $results = Join-Path $Artifacts 'test-results'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    $args = @('test', (Join-Path $Root 'BlurVae.sln'), '-c', 'Release', '--no-build', '--nologo',
              '--logger', 'trx;LogFileName=results.trx', '--logger', 'console;verbosity=minimal',
              '--results-directory', $results)
    if ($Filter) { $args += @('--filter', $Filter) }
    & dotnet @args
    $testExit = $LASTEXITCODE
    $passed = 0; $failed = 0; $skipped = 0
    $trx = @(Get-ChildItem -Path $results -Filter '*.trx' -Recurse -ErrorAction SilentlyContinue)
    foreach ($file in $trx) {
        [xml]$doc = Get-Content $file.FullName
        $c = $doc.TestRun.ResultSummary.Counters
        $passed += [int]$c.passed
        $failed += [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
        # Ignored tests (e.g. the real-GPU ones on a machine without a GPU) are in 'total' but not 'executed'.
        $skipped += [int]$c.total - [int]$c.executed + [int]$c.notExecuted + [int]$c.inconclusive
    }
    if ($trx.Count -eq 0 -and $testExit -ne 0) { $failed = 1 }
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    if ($testExit -ne 0 -or $failed -gt 0) { exit 1 }
}

function Invoke-Bench {
    Invoke-Checked 'dotnet build (bench)' { dotnet build (Join-Path $Root 'bench/BlurVae.Bench/BlurVae.Bench.csproj') -c Release --nologo -v minimal }
    $exe = Join-Path $Root 'bench/BlurVae.Bench/bin/Release/net10.0/BlurVae.Bench.dll'
    $gemm = @(& dotnet $exe gemm)
    $gemmExit = $LASTEXITCODE
    $gemm | ForEach-Object { Write-Host $_ }
    if ($gemmExit -ne 0) { throw "GEMM benchmark failed with exit code $gemmExit" }
    # OpenBLAS's single-precision figure from the table row "| 1024³ | single | threads | ours | % of peak | OpenBLAS | ..." is the step's yardstick.
    $sgemm = $null
    foreach ($line in $gemm) {
        if ($line -match '^\|\s*\d+³\s*\|\s*single\s*\|\s*\d+\s*\|\s*[\d.]+\s*\|[^|]*\|\s*([\d.]+)\s*\|') { $sgemm = $Matches[1]; break }
    }
    if (-not $sgemm) { throw 'GEMM benchmark: no "single" row with an OpenBLAS GFLOP/s figure in its output' }
    Invoke-Checked 'convolution benchmark' { dotnet $exe conv }
    if ($Micro) { Invoke-Checked 'micro-benchmarks' { dotnet $exe micro } }

    $out = Join-Path $Artifacts 'bench'
    New-Item -ItemType Directory -Force -Path $out | Out-Null
    $config = if ($Celeba) { 'all' } else { 'fashion32' }
    $blurvae = Join-Path $Root 'BlurVae.Training/bin/Release/net10.0/blurvae.dll'
    Invoke-Checked 'training-step benchmark' {
        dotnet $blurvae bench --config $config --device cpu --threads 2 --against pytorch --sgemm-gflops $sgemm `
            --json (Join-Path $out 'step.json') --markdown (Join-Path $out 'step.md')
    }
}

function Invoke-Publish {
    $out = Join-Path $Artifacts 'publish/linux-x64'
    if (Test-Path $out) { Remove-Item -Recurse -Force $out }
    Invoke-Checked 'dotnet publish' {
        dotnet publish (Join-Path $Root 'BlurVae.Training/BlurVae.Training.csproj') -c Release -r linux-x64 --self-contained `
            -p:PublishTrimmed=true -p:PublishSingleFile=true -o $out --nologo -v minimal
    }
    # Debug symbols are not needed to run; they would count against the device tool's 64 MiB.
    Get-ChildItem -Path $out -Filter '*.pdb' -Recurse | Remove-Item -Force
    # The GPU-machine check (tools/gpu-check.sh) and the PyTorch side of `bench --against pytorch`, which bench finds
    # as reference/pytorch/bench.py above the executable.
    New-Item -ItemType Directory -Force -Path (Join-Path $out 'tools'), (Join-Path $out 'reference/pytorch') | Out-Null
    Copy-Item (Join-Path $Root 'tools/gpu-check.sh') (Join-Path $out 'tools/gpu-check.sh')
    Copy-Item (Join-Path $Root 'reference/pytorch/*.py') (Join-Path $out 'reference/pytorch/')
    if (-not $IsWindows) { & chmod +x (Join-Path $out 'tools/gpu-check.sh') }
    $bytes = (Get-ChildItem -Path $out -Recurse -File | Measure-Object -Property Length -Sum).Sum
    $mib = [math]::Round($bytes / 1MB, 1)
    Get-ChildItem -Path $out -File | ForEach-Object { Write-Host ('{0,10:N0}  {1}' -f $_.Length, $_.Name) }
    Write-Host "artifacts/publish/linux-x64: $mib MiB"
    if ($bytes -gt 64MB) { throw "The published folder is $mib MiB, over the 64 MiB the device tool carries." }
}

function Invoke-Ptx {
    Invoke-Build
    Invoke-Checked 'NVRTC compile of kernels.cu' {
        dotnet test (Join-Path $Root 'tests/BlurVae.Tests/BlurVae.Tests.csproj') -c Release --no-build --nologo `
            --filter 'FullyQualifiedName~KernelsCuCompilesCleanly' --logger 'console;verbosity=normal'
    }
    $nvcc = Get-Command nvcc -ErrorAction SilentlyContinue
    if (-not $nvcc -and $env:CUDA_PATH -and (Test-Path (Join-Path $env:CUDA_PATH 'bin/nvcc'))) { $nvcc = Join-Path $env:CUDA_PATH 'bin/nvcc' }
    if (-not $nvcc) { Write-Host 'nvcc: not found (PATH, $CUDA_PATH/bin); only NVRTC compiled the kernels.'; return }
    $out = Join-Path $Artifacts 'ptx'
    New-Item -ItemType Directory -Force -Path $out | Out-Null
    $ptx = Join-Path $out "kernels-compute_$Arch.ptx"
    Invoke-Checked 'nvcc' { & $nvcc -ptx "-arch=compute_$Arch" -std=c++17 -Werror all-warnings (Join-Path $Root 'kernels.cu') -o $ptx }
    Write-Host "nvcc: $ptx"
}

function Invoke-Deps {
    $isRoot = (& id -u) -eq '0'
    if (-not $isRoot) { throw 'deps installs Debian packages with apt-get and must run as root.' }
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Checked 'apt-get update' { apt-get update -qq }
    Invoke-Checked 'apt-get install' { apt-get install -y -qq libopenblas0-pthread }
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'bench' { Invoke-Bench }
    'publish' { Invoke-Publish }
    'ptx' { Invoke-Ptx }
    'deps' { Invoke-Deps }
    'clean' {
        Get-ChildItem -Path $Root -Include bin, obj -Directory -Recurse | Remove-Item -Recurse -Force
        if (Test-Path $Artifacts) { Remove-Item -Recurse -Force $Artifacts }
    }
}

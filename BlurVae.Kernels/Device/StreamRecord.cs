using BlurVae.Native;

namespace BlurVae.Kernels.Device;

public enum StreamOpKind { Launch, Cublas, Cufft, Memset, Copy }

/// <summary>
/// One operation a <see cref="RecordingDevice"/> saw: its kind, name (the kernel's, or the library call's), launch
/// geometry (kernels only), an estimate of its FLOPs and the bytes it moves to or from device memory, and its split-K
/// slices (a convolution GEMM writing partial sums that a second, deterministic pass adds; 1 for everything else).
/// </summary>
public readonly record struct StreamRecord(StreamOpKind Kind, string Name, Dim3 Grid, Dim3 Block, double Flops, double Bytes, int Splits = 1)
{
    /// <summary>Blocks of a kernel launch; 0 for library calls, memsets and copies (their geometry is the library's).</summary>
    public long Blocks => Kind == StreamOpKind.Launch ? (long)Grid.X * Grid.Y * Grid.Z : 0;

    public long ThreadsPerBlock => (long)Block.X * Block.Y * Block.Z;

    /// <summary>
    /// A lower bound of the operation's time on <paramref name="gpu"/> in seconds: the larger of its FLOPs at the
    /// peak rate (<paramref name="tensorCores"/>: TF32 tensor cores, else FP32 SIMT) and its bytes at the peak bandwidth.
    /// </summary>
    public double RooflineSeconds(GpuSpec gpu, bool tensorCores) =>
        Math.Max(Flops / ((tensorCores ? gpu.Tf32TensorTflops : gpu.Fp32Tflops) * 1e12), Bytes / (gpu.MemoryTBps * 1e12));
}

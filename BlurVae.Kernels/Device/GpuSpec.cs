namespace BlurVae.Kernels.Device;

/// <summary>
/// The figures of a GPU that a roofline estimate and a wave count need. Peak figures are the vendor's datasheet
/// numbers (dense, no sparsity) and are upper bounds no real kernel reaches, so every time derived from them is a
/// lower bound: an estimate, never a measurement.
/// </summary>
public sealed record GpuSpec(string Key, string Name, int Sms, double Fp32Tflops, double Tf32TensorTflops, double MemoryTBps, string Source)
{
    /// <summary>
    /// H100 SXM5: 132 SMs; FP32 66.9 TFLOP/s (the datasheet's "67"); TF32 tensor core 494.7 TFLOP/s dense (the
    /// datasheet's 989 is with 2:4 sparsity, "specifications one-half lower without sparsity"); HBM3 3.35 TB/s.
    /// </summary>
    public static GpuSpec H100Sxm { get; } = new("h100", "NVIDIA H100 SXM5 80GB", 132, 66.9, 494.7, 3.35,
        "NVIDIA H100 Tensor Core GPU datasheet (SXM column: FP32 67 TFLOPS, TF32 Tensor Core 989 TFLOPS with sparsity, " +
        "half without; GPU memory bandwidth 3.35 TB/s) and the NVIDIA H100 Tensor Core GPU Architecture whitepaper (132 SMs)");

    public static IReadOnlyList<GpuSpec> Known { get; } = [H100Sxm];

    /// <summary>The spec a --gpu value names.</summary>
    public static GpuSpec Find(string key) =>
        Known.FirstOrDefault(g => string.Equals(g.Key, key, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"--gpu must be one of {string.Join(", ", Known.Select(g => g.Key))} (got '{key}').");

    /// <summary>Blocks for two full waves (one block per SM at a time, the conservative case).</summary>
    public int TwoWaves => 2 * Sms;
}

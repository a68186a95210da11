namespace BlurVae.Kernels;

/// <summary>
/// The arithmetic of the GPU's matrix products (convolutions and cuBLAS GEMMs), as --precision: <see cref="Tf32"/>
/// (tensor cores, inputs rounded to TF32's 10-bit mantissa, FP32 accumulation: PyTorch's default for convolutions
/// and the default of `blurvae` on GPUs) or <see cref="Fp32"/> (strict FP32: SIMT kernels, cuBLAS without TF32).
/// The CPU backend always computes in FP32/FP64.
/// </summary>
public enum MathPrecision
{
    Fp32,
    Tf32,
}

public static class MathPrecisions
{
    /// <summary>The --precision words, default first.</summary>
    public static readonly string[] Names = ["tf32", "fp32"];

    public static string Name(this MathPrecision p) => p == MathPrecision.Tf32 ? "tf32" : "fp32";

    /// <summary>Parses a --precision word; the message names the flag and the choices.</summary>
    public static MathPrecision Parse(string text) => text.ToLowerInvariant() switch
    {
        "tf32" => MathPrecision.Tf32,
        "fp32" => MathPrecision.Fp32,
        _ => throw new ArgumentException($"--precision must be tf32 or fp32 (got '{text}')."),
    };
}

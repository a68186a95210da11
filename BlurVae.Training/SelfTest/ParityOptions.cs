
namespace BlurVae.Training.SelfTest;

/// <summary>What <see cref="BackendParity.Run"/> checks.</summary>
public sealed record ParityOptions
{
    /// <summary>Fewer and smaller cases per op (every op and direction is still checked) and a smaller training step.</summary>
    public bool Quick { get; init; }

    /// <summary>Seeds every random input, so a failing run can be repeated exactly.</summary>
    public int Seed { get; init; } = 20230501;

    /// <summary>
    /// Element type of the reference backend's buffers. Float64 (the default) makes the reference nearly exact, so
    /// a tolerance bounds the candidate's own float32 error; Float32 compares rounding with rounding.
    /// The candidate always runs in float32, the only type a GPU backend holds.
    /// </summary>
    public DType ReferenceDType { get; init; } = DType.Float64;

    /// <summary>Also run one full alternating training step of a small VAE on both backends (<see cref="TrainingStepParity"/>).</summary>
    public bool TrainingStep { get; init; } = true;

    /// <summary>
    /// --precision: with <see cref="MathPrecision.Tf32"/> the convolution checks also run on a GPU candidate's
    /// tensor-core kernels, at TF32 tolerances. Every other check runs the candidate in strict FP32.
    /// </summary>
    public MathPrecision Precision { get; init; } = MathPrecision.Fp32;
}

using System.Text.Json;

namespace BlurVae.Training.Losses;

/// <summary>
/// The parameters of one Watson-DFT model (one image channel), in the reference's unconstrained form: the
/// sensitivities t = exp(t̃) and phase weights exp(w̃_phase) per rfft coefficient of a b×b block (b × (b/2+1)),
/// the luminance-masking exponent α, the contrast-masking exponent w = sigmoid(w̃), and the pooling exponent β.
/// Immutable: the array properties return copies.
/// </summary>
public sealed class WatsonParameters
{
    private readonly double[,] _tTilde, _wPhaseTilde;

    public WatsonParameters(int blockSize, double[,] tTilde, double alpha, double wTilde, double beta, double[,] wPhaseTilde)
    {
        ArgumentNullException.ThrowIfNull(tTilde);
        ArgumentNullException.ThrowIfNull(wPhaseTilde);
        if (blockSize < 2 || blockSize % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "The block size must be even and at least 2.");
        int rows = blockSize, cols = blockSize / 2 + 1;
        CheckTable(tTilde, rows, cols, nameof(tTilde));
        CheckTable(wPhaseTilde, rows, cols, nameof(wPhaseTilde));
        if (!double.IsFinite(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be finite.");
        if (!double.IsFinite(wTilde)) throw new ArgumentOutOfRangeException(nameof(wTilde), wTilde, "w_tild must be finite.");
        // The pooled distance is (Σ ...)^(1/β): β must be a positive finite exponent.
        if (!(beta > 0) || !double.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be a positive finite number.");
        BlockSize = blockSize;
        _tTilde = (double[,])tTilde.Clone();
        _wPhaseTilde = (double[,])wPhaseTilde.Clone();
        Alpha = alpha;
        WTilde = wTilde;
        Beta = beta;
    }

    /// <summary>Side of the square blocks (8 in the paper).</summary>
    public int BlockSize { get; }

    /// <summary>Rows × columns of the per-coefficient tables: b × (b/2 + 1), the rfft2 half spectrum of a block.</summary>
    public int Rows => BlockSize;

    public int Cols => BlockSize / 2 + 1;

    /// <summary>t̃ (log sensitivities), Rows × Cols.</summary>
    public double[,] TTilde => (double[,])_tTilde.Clone();

    /// <summary>w̃_phase (log phase weights), Rows × Cols.</summary>
    public double[,] WPhaseTilde => (double[,])_wPhaseTilde.Clone();

    /// <summary>Luminance-masking exponent α.</summary>
    public double Alpha { get; }

    /// <summary>w̃, the logit of the contrast-masking exponent.</summary>
    public double WTilde { get; }

    /// <summary>Pooling exponent β.</summary>
    public double Beta { get; }

    /// <summary>Contrast-masking exponent w = sigmoid(w̃).</summary>
    public double W => 1.0 / (1.0 + Math.Exp(-WTilde));

    /// <summary>The reference's initial (untrained) values: t̃ = 0, α = 0.1, w = 0.2, β = 1, w̃_phase = −2.</summary>
    public static WatsonParameters Untrained(int blockSize = 8)
    {
        int rows = blockSize, cols = blockSize / 2 + 1;
        var phase = new double[rows, cols];
        for (int u = 0; u < rows; u++)
            for (int v = 0; v < cols; v++)
                phase[u, v] = -2.0;
        return new WatsonParameters(blockSize, new double[rows, cols], 0.1, Math.Log(0.2 / 0.8), 1.0, phase);
    }

    /// <summary>The learned grayscale model of the paper (gray_watson_fft_trial0, embedded in this assembly).</summary>
    public static WatsonParameters LoadGrayscale() =>
        FromJson(WatsonDftJson.ReadResource(WatsonDftJson.GrayResource), WatsonDftJson.GrayResource);

    /// <summary>Reads a grayscale model file (the format of gray_watson_fft_trial0.json).</summary>
    public static WatsonParameters FromFile(string path) => FromJson(WatsonDftJson.ReadFile(path), path);

    /// <summary>Parses a grayscale model; `source` names the file in error messages.</summary>
    public static WatsonParameters FromJson(string json, string source = "Watson-DFT parameters") =>
        Read(WatsonDftJson.ParseObject(json, source), "", source);

    /// <summary>Reads the model stored under `prefix` (e.g. "ly.") of a parsed parameter object.</summary>
    internal static WatsonParameters Read(JsonElement root, string prefix, string source)
    {
        int b = WatsonDftJson.Integer(root, prefix + "blocksize", source);
        if (b < 2 || b % 2 != 0)
            throw new InvalidDataException($"{source}: field '{prefix}blocksize' must be an even integer ≥ 2, found {b}.");
        var tTilde = WatsonDftJson.Matrix(root, prefix + "t_tild", b, b / 2 + 1, source);
        double alpha = WatsonDftJson.Number(root, prefix + "alpha", source);
        double wTilde = WatsonDftJson.Number(root, prefix + "w_tild", source);
        double beta = WatsonDftJson.Number(root, prefix + "beta", source);
        if (!(beta > 0)) throw new InvalidDataException($"{source}: field '{prefix}beta' must be positive, found {beta}.");
        var wPhase = WatsonDftJson.Matrix(root, prefix + "w_phase_tild", b, b / 2 + 1, source);
        return new WatsonParameters(b, tTilde, alpha, wTilde, beta, wPhase);
    }

    /// <summary>t = exp(t̃), row-major Rows × Cols.</summary>
    internal double[] Sensitivities() => Map(_tTilde, Math.Exp);

    /// <summary>
    /// exp(w̃_phase), row-major, with the four purely real coefficients of a real block's rfft — (0, 0), (0, b/2),
    /// (b/2, 0), (b/2, b/2) — set to 0: they have no phase, only a sign. The reference does this whenever the
    /// model is not being trained, which is always the case here.
    /// </summary>
    internal double[] PhaseWeights()
    {
        var w = Map(_wPhaseTilde, Math.Exp);
        int half = BlockSize / 2, cols = Cols;
        w[0] = 0;
        w[half] = 0;
        w[half * cols] = 0;
        w[half * cols + half] = 0;
        return w;
    }

    private static double[] Map(double[,] table, Func<double, double> f)
    {
        int rows = table.GetLength(0), cols = table.GetLength(1);
        var flat = new double[rows * cols];
        for (int u = 0; u < rows; u++)
            for (int v = 0; v < cols; v++)
                flat[u * cols + v] = f(table[u, v]);
        return flat;
    }

    private static void CheckTable(double[,] table, int rows, int cols, string name)
    {
        if (table.GetLength(0) != rows || table.GetLength(1) != cols)
            throw new ArgumentException($"{name} must be {rows}×{cols} for {rows}×{rows} blocks, got {table.GetLength(0)}×{table.GetLength(1)}.", name);
        foreach (var v in table)
            if (!double.IsFinite(v)) throw new ArgumentException($"{name} holds a non-finite value {v}.", name);
    }
}

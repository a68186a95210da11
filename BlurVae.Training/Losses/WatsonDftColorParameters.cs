namespace BlurVae.Training.Losses;

/// <summary>
/// The colour Watson-DFT model: a (learned) RGB → YCbCr transform, one <see cref="WatsonParameters"/> per Y, Cb,
/// Cr channel, and the channel weights softmax(w̃). The transform is stored as the reference stores it:
/// ycc[c] = Σ_k rgb[k] · Transform[k, c] + Bias[c] (images in [0, 1]).
/// </summary>
public sealed class WatsonColorParameters
{
    private readonly double[,] _transform;
    private readonly double[] _bias, _channelWTilde;

    public WatsonColorParameters(double[,] transform, double[] bias, double[] channelWTilde, WatsonParameters y, WatsonParameters cb, WatsonParameters cr)
    {
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentNullException.ThrowIfNull(channelWTilde);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(cb);
        ArgumentNullException.ThrowIfNull(cr);
        if (transform.GetLength(0) != 3 || transform.GetLength(1) != 3)
            throw new ArgumentException($"The colour transform must be 3×3, got {transform.GetLength(0)}×{transform.GetLength(1)}.", nameof(transform));
        if (bias.Length != 3) throw new ArgumentException($"The colour bias must have 3 entries, got {bias.Length}.", nameof(bias));
        if (channelWTilde.Length != 3) throw new ArgumentException($"The channel weights must have 3 entries, got {channelWTilde.Length}.", nameof(channelWTilde));
        foreach (var v in transform) if (!double.IsFinite(v)) throw new ArgumentException("The colour transform holds a non-finite value.", nameof(transform));
        foreach (var v in bias) if (!double.IsFinite(v)) throw new ArgumentException("The colour bias holds a non-finite value.", nameof(bias));
        foreach (var v in channelWTilde) if (!double.IsFinite(v)) throw new ArgumentException("The channel weights hold a non-finite value.", nameof(channelWTilde));
        _transform = (double[,])transform.Clone();
        _bias = (double[])bias.Clone();
        _channelWTilde = (double[])channelWTilde.Clone();
        Y = y;
        Cb = cb;
        Cr = cr;
    }

    /// <summary>3×3, indexed [rgb channel, ycc channel].</summary>
    public double[,] Transform => (double[,])_transform.Clone();

    public double[] Bias => (double[])_bias.Clone();

    /// <summary>w̃ of the colour wrapper: the channel weights are softmax(w̃).</summary>
    public double[] ChannelWTilde => (double[])_channelWTilde.Clone();

    public WatsonParameters Y { get; }

    public WatsonParameters Cb { get; }

    public WatsonParameters Cr { get; }

    /// <summary>softmax(w̃): the weights of the Y, Cb and Cr distances (they sum to 1).</summary>
    public double[] ChannelWeights
    {
        get
        {
            double max = _channelWTilde.Max();
            var e = _channelWTilde.Select(v => Math.Exp(v - max)).ToArray();
            double sum = e.Sum();
            return e.Select(v => v / sum).ToArray();
        }
    }

    internal WatsonParameters Channel(int c) => c switch { 0 => Y, 1 => Cb, 2 => Cr, _ => throw new ArgumentOutOfRangeException(nameof(c)) };

    /// <summary>
    /// The reference's initial values: the JPEG (BT.601 full-range) RGB → YCbCr transform with bias (0, ½, ½), equal
    /// channel weights, and an untrained model per channel.
    /// </summary>
    public static WatsonColorParameters Untrained(int blockSize = 8)
    {
        // Rows: Y, Cb, Cr as functions of R, G, B; stored transposed ([rgb, ycc]) as the reference multiplies.
        double[,] ycc =
        {
            { 0.299, 0.587, 0.114 },
            { -0.1687, -0.3313, 0.5 },
            { 0.5, -0.4187, -0.0813 },
        };
        var transform = new double[3, 3];
        for (int k = 0; k < 3; k++)
            for (int c = 0; c < 3; c++)
                transform[k, c] = ycc[c, k];
        return new WatsonColorParameters(transform, [0, 0.5, 0.5], [0, 0, 0],
            WatsonParameters.Untrained(blockSize), WatsonParameters.Untrained(blockSize), WatsonParameters.Untrained(blockSize));
    }

    /// <summary>The learned colour model of the paper (rgb_watson_fft_trial0, embedded in this assembly).</summary>
    public static WatsonColorParameters LoadDefault() =>
        FromJson(WatsonDftJson.ReadResource(WatsonDftJson.ColorResource), WatsonDftJson.ColorResource);

    /// <summary>Reads a colour model file (the format of rgb_watson_fft_trial0.json).</summary>
    public static WatsonColorParameters FromFile(string path) => FromJson(WatsonDftJson.ReadFile(path), path);

    /// <summary>Parses a colour model; `source` names the file in error messages.</summary>
    public static WatsonColorParameters FromJson(string json, string source = "Watson-DFT colour parameters")
    {
        var root = WatsonDftJson.ParseObject(json, source);
        var transform = WatsonDftJson.Matrix(root, "to_YCbCr.transform", 3, 3, source);
        var bias = WatsonDftJson.Vector(root, "to_YCbCr.bias", 3, source);
        var wTilde = WatsonDftJson.Vector(root, "w_tild", 3, source);
        var y = WatsonParameters.Read(root, "ly.", source);
        var cb = WatsonParameters.Read(root, "lcb.", source);
        var cr = WatsonParameters.Read(root, "lcr.", source);
        return new WatsonColorParameters(transform, bias, wTilde, y, cb, cr);
    }
}

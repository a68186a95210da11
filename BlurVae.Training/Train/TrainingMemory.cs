using BlurVae.Training.Models;

namespace BlurVae.Training.Train;

/// <summary>
/// An upper estimate of a run's memory from its options alone, checked before any model or batch is allocated, so that
/// --latent 100000000 or --side 4096 are refused with the bytes needed instead of overflowing or waking the OOM killer.
/// Counts follow the layer lists of ArchitectureA/B and BlurKernelGenerator (docs/architectures.md); activations are
/// bounded generously (every layer's output kept several times: value, gradient, batch-norm and FFT scratch).
/// </summary>
public static class TrainingMemory
{
    /// <summary>Copies of each activation alive at once in a training step (forward value, gradient, scratch).</summary>
    private const double ActivationCopies = 8;

    /// <summary>Copies of each parameter: value, gradient and Adam's two moments.</summary>
    private const double ParameterCopies = 4;

    /// <summary>Throws a UserError naming the flags when one step of this run cannot fit into memory.</summary>
    public static void Check(TrainOptions o, int channels, int side)
    {
        const string Fix = "lower --latent, --mlp-hidden, --channels/--width, --side or --batch-size.";
        var (parameters, largest) = Parameters(o, channels, side);
        int elem = o.Dtype == "f64" ? 8 : 4;
        MemoryBudget.RequireArray(largest, elem, $"The largest weight of this model (--latent {o.Latent}, --mlp-hidden {o.MlpHidden}, side {side})", Fix);
        double bytes = (double)elem * (ParameterCopies * parameters + ActivationCopies * o.BatchSize * ActivationsPerImage(o, channels, side));
        MemoryBudget.Require(bytes, $"Training {parameters:G3} parameters on {side}×{side} images in batches of {o.BatchSize}", Fix);
    }

    /// <summary>Throws a UserError when decoding or encoding <paramref name="images"/> images at once cannot fit into memory.</summary>
    public static void CheckInference(TrainOptions o, int channels, int side, int images, string flag)
    {
        int elem = o.Dtype == "f64" ? 8 : 4;
        MemoryBudget.Require(elem * 2.0 * images * ActivationsPerImage(o, channels, side), $"{flag} {images} on {side}×{side} images", $"lower {flag}.");
    }

    /// <summary>The parameter count and the element count of the largest single weight.</summary>
    public static (double Total, double Largest) Parameters(TrainOptions o, int channels, int side)
    {
        int[] list = ChannelList(o, side);
        double flat = list[^1] * Square(side / Math.Pow(2, list.Length));
        double total = 0, largest = 0;
        void Add(double weights, double biases)
        {
            total += weights + biases;
            largest = Math.Max(largest, weights);
        }
        // Encoder: 3×3 convolutions with batch norm (weight, bias, running mean and variance).
        double cin = channels;
        foreach (double c in list)
        {
            Add(cin * c * 9, c + 4 * c);
            cin = c;
        }
        var reversed = list.Reverse().ToArray();
        for (int i = 0; i < reversed.Length; i++)
        {
            double cout = i + 1 < reversed.Length ? reversed[i + 1] : reversed[i];
            Add(reversed[i] * cout * (o.Arch == Architecture.A ? 16 : 9), cout + 4 * cout);
        }
        Add(reversed[^1] * channels * 9.0, channels);
        if (o.Arch == Architecture.A)
        {
            Add(flat * o.MlpHidden, o.MlpHidden);
            Add(o.MlpHidden * 2.0 * o.Latent, 2.0 * o.Latent);
            Add((double)o.Latent * o.MlpHidden, o.MlpHidden);
            Add(o.MlpHidden * flat, flat);
        }
        else
        {
            Add(flat * 2.0 * o.Latent, 2.0 * o.Latent);
            Add(o.Latent * flat, flat);
        }
        double k = o.EffectiveKernelSize(side);
        Add(o.Latent * 1000.0, 1000);
        Add(1000 * k * k, k * k);
        return (total, largest);
    }

    /// <summary>Values of one image's activations through encoder, decoder and the loss (image-sized FFT buffers).</summary>
    public static double ActivationsPerImage(TrainOptions o, int channels, int side)
    {
        int[] list = ChannelList(o, side);
        double sum = 0;
        for (int i = 0; i < list.Length; i++)
            sum += 2.0 * list[i] * Square(side / Math.Pow(2, i + 1)) * (o.Arch == Architecture.B ? 4 : 1);
        sum += 8.0 * channels * Square(side);   // input, output, their spectra and the Wiener weighting
        return sum + 4.0 * o.Latent + 2.0 * o.MlpHidden;
    }

    private static int[] ChannelList(TrainOptions o, int side) =>
        o.Channels.Length > 0 ? o.Channels
        : o.Arch == Architecture.A ? ArchitectureA.DefaultChannels(side, o.Width)
        : ArchitectureB.DefaultChannels(o.Width);

    private static double Square(double v) => v * v;
}

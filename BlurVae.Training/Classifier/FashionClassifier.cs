using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Classifier;

/// <summary>
/// The small Fashion-MNIST classifier whose penultimate features define FD-FMNIST: images 1×32×32 in [−1, 1] (the
/// VAE's padded Fashion-MNIST), three stride-2 3×3 convolutions with ReLU (32×16² → 64×8² → 128×4²), a 2048 → 128
/// linear layer with ReLU (the <see cref="Features"/>), and a 128 → 10 linear layer (the class logits). No batch
/// norm, so features do not depend on the batch or a train/eval mode.
/// </summary>
public sealed class FashionClassifier : Module
{
    public const int Side = 32;
    public const int FeatureCount = 128;
    public const int ClassCount = 10;

    private readonly Sequential _body;
    private readonly Linear _head;

    public FashionClassifier(Random rng, DType dtype = DType.Float32, IBackend? backend = null)
    {
        _body = RegisterModule("body", new Sequential(
            new Conv2d(1, 32, 3, rng, stride: 2, padding: 1, dtype: dtype, backend: backend), new ReLU(),
            new Conv2d(32, 64, 3, rng, stride: 2, padding: 1, dtype: dtype, backend: backend), new ReLU(),
            new Conv2d(64, 128, 3, rng, stride: 2, padding: 1, dtype: dtype, backend: backend), new ReLU(),
            new Flatten(),
            new Linear(128 * 4 * 4, FeatureCount, rng, dtype: dtype, backend: backend), new ReLU()));
        _head = RegisterModule("head", new Linear(FeatureCount, ClassCount, rng, dtype: dtype, backend: backend));
    }

    /// <summary>The penultimate features [N, 128] of images [N, 1, 32, 32].</summary>
    public Tensor Features(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != 1 || x.Shape[2] != Side || x.Shape[3] != Side)
            throw new ArgumentException($"The Fashion-MNIST classifier takes images [N, 1, {Side}, {Side}] (got {Tensor.ShapeString(x.Shape)}).");
        return _body.Forward(x);
    }

    /// <summary>Class logits [N, 10].</summary>
    public override Tensor Forward(Tensor x) => _head.Forward(Features(x));
}

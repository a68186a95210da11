using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Perceptual;

/// <summary>
/// The Inception-v3 of FID (pytorch-fid's FID variant of the TensorFlow graph, pt_inception-2015-12-05): torchvision's
/// Inception-v3 layers and parameter names (Conv2d_1a_3x3.conv.weight, Mixed_5b.branch1x1.bn.running_mean, …) with
/// pytorch-fid's blocks FIDInceptionA, FIDInceptionC, FIDInceptionE_1 and FIDInceptionE_2: their average pools do not
/// count the padding, and E_2 (Mixed_7c) pools its branch with a 3×3 max pool instead. Batch norms run in evaluation
/// mode with eps 0.001. <see cref="Features"/> returns pool3, the 2048-d global average FID compares.
/// Input: images [N, 1 or 3, H, W] in [−1, 1] — the range pytorch-fid maps its [0, 1] input to (2x − 1) — resized
/// to 299 × 299 bilinearly (align_corners = false) as pytorch-fid does; grey images are repeated to three channels.
/// </summary>
public sealed class FidInceptionV3 : Module
{
    public const int Side = 299, FeatureCount = 2048;

    /// <summary>The smallest side the layers accept without the resize (three stride-2 reductions of 3×3 windows).</summary>
    public const int MinimumSide = 75;

    private readonly Module[] _stem, _mixed;

    public FidInceptionV3(Random rng, DType dtype = DType.Float32, IBackend? backend = null)
    {
        var f = new Factory(rng, dtype, backend);
        _stem =
        [
            RegisterModule("Conv2d_1a_3x3", f.Conv(3, 32, 3, stride: 2)),
            RegisterModule("Conv2d_2a_3x3", f.Conv(32, 32, 3)),
            RegisterModule("Conv2d_2b_3x3", f.Conv(32, 64, 3, padding: 1)),
            new MaxPool(3, 2),
            RegisterModule("Conv2d_3b_1x1", f.Conv(64, 80, 1)),
            RegisterModule("Conv2d_4a_3x3", f.Conv(80, 192, 3)),
            new MaxPool(3, 2),
        ];
        _mixed =
        [
            RegisterModule("Mixed_5b", new InceptionA(f, 192, 32)),
            RegisterModule("Mixed_5c", new InceptionA(f, 256, 64)),
            RegisterModule("Mixed_5d", new InceptionA(f, 288, 64)),
            RegisterModule("Mixed_6a", new InceptionB(f, 288)),
            RegisterModule("Mixed_6b", new InceptionC(f, 768, 128)),
            RegisterModule("Mixed_6c", new InceptionC(f, 768, 160)),
            RegisterModule("Mixed_6d", new InceptionC(f, 768, 160)),
            RegisterModule("Mixed_6e", new InceptionC(f, 768, 192)),
            RegisterModule("Mixed_7a", new InceptionD(f, 768)),
            RegisterModule("Mixed_7b", new InceptionE(f, 1280, maxPoolBranch: false)),
            RegisterModule("Mixed_7c", new InceptionE(f, 2048, maxPoolBranch: true)),
        ];
        Eval();
    }

    /// <summary>pool3 features [N, 2048] of images in [−1, 1]; <paramref name="resize"/> = false feeds them at their own size (≥ 75).</summary>
    public Tensor Features(Tensor x, bool resize = true)
    {
        if (x.Rank != 4 || (x.Shape[1] != 1 && x.Shape[1] != 3))
            throw new ArgumentException($"Inception-v3 takes images [N, 1 or 3, H, W] (got {Tensor.ShapeString(x.Shape)}).");
        if (x.Shape[1] == 1) x = Tensor.Concat([x, x, x], axis: 1);
        if (resize && (x.Shape[2] != Side || x.Shape[3] != Side)) x = x.ResizeBilinear(Side, Side);
        if (x.Shape[2] < MinimumSide || x.Shape[3] < MinimumSide)
            throw new ArgumentException($"Inception-v3 needs at least {MinimumSide}×{MinimumSide} pixels (got {x.Shape[2]}×{x.Shape[3]}).");
        foreach (var layer in _stem) x = layer.Forward(x);
        foreach (var block in _mixed) x = block.Forward(x);
        return x.AdaptiveAvgPool2d(1, 1).Reshape(x.Shape[0], FeatureCount);
    }

    public override Tensor Forward(Tensor x) => Features(x);

    /// <summary>Loads every parameter and batch-norm buffer (torchvision's names, as tools/export-weights.py fid-inception writes them).</summary>
    public void Load(string path)
    {
        var (tensors, _) = SafeTensors.Read(path);
        NamedTensors.Restore(NamedParameters().Concat(NamedBuffers()), tensors, $"Inception weights '{path}'",
            "write them with `python3 tools/export-weights.py fid-inception FILE` where pytorch-fid is installed.");
    }

    /// <summary>Makes the layers of one network with one generator, dtype and backend.</summary>
    private sealed class Factory(Random rng, DType dtype, IBackend? backend)
    {
        public BasicConv2d Conv(int cin, int cout, int kernel, int stride = 1, int padding = 0) =>
            new(this, cin, cout, (kernel, kernel), (stride, stride), (padding, padding));

        public BasicConv2d Conv(int cin, int cout, (int H, int W) kernel, (int H, int W) padding) => new(this, cin, cout, kernel, (1, 1), padding);

        public Conv2d NewConv2d(int cin, int cout, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding) =>
            new(cin, cout, kernel, rng, stride, padding, bias: false, dtype: dtype, backend: backend);

        public BatchNorm2d NewBatchNorm(int channels) => new(channels, eps: 0.001, dtype: dtype, backend: backend);
    }

    /// <summary>torchvision's BasicConv2d: convolution without bias → batch norm (eps 0.001) → ReLU.</summary>
    private sealed class BasicConv2d : Module
    {
        private readonly Conv2d _conv;
        private readonly BatchNorm2d _bn;

        public BasicConv2d(Factory f, int cin, int cout, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding)
        {
            _conv = RegisterModule("conv", f.NewConv2d(cin, cout, kernel, stride, padding));
            _bn = RegisterModule("bn", f.NewBatchNorm(cout));
        }

        public override Tensor Forward(Tensor x) => _bn.Forward(_conv.Forward(x)).Relu();
    }

    private sealed class MaxPool(int kernel, int stride, int padding = 0) : Module
    {
        public override Tensor Forward(Tensor x) => x.MaxPool2d(kernel, stride, padding);
    }

    /// <summary>A block whose branches see the same input and whose outputs are concatenated along channels.</summary>
    private abstract class Block : Module
    {
        protected abstract IEnumerable<Tensor> Branches(Tensor x);

        public override Tensor Forward(Tensor x) => Tensor.Concat(Branches(x).ToList(), axis: 1);

        protected static Tensor Chain(Tensor x, params Module[] layers) => layers.Aggregate(x, (h, layer) => layer.Forward(h));

        /// <summary>FID's pooling branch: a 3×3 stride-1 average that ignores the padding (pytorch-fid's count_include_pad=False).</summary>
        protected static Tensor AveragePool(Tensor x) => x.AvgPool2d(3, 1, 1, countIncludePad: false);
    }

    /// <summary>FIDInceptionA: 1×1 | 1×1 → 5×5 | 1×1 → 3×3 → 3×3 | avg-pool → 1×1.</summary>
    private sealed class InceptionA : Block
    {
        private readonly BasicConv2d _b1, _b5a, _b5b, _b3a, _b3b, _b3c, _pool;

        public InceptionA(Factory f, int cin, int poolFeatures)
        {
            _b1 = RegisterModule("branch1x1", f.Conv(cin, 64, 1));
            _b5a = RegisterModule("branch5x5_1", f.Conv(cin, 48, 1));
            _b5b = RegisterModule("branch5x5_2", f.Conv(48, 64, 5, padding: 2));
            _b3a = RegisterModule("branch3x3dbl_1", f.Conv(cin, 64, 1));
            _b3b = RegisterModule("branch3x3dbl_2", f.Conv(64, 96, 3, padding: 1));
            _b3c = RegisterModule("branch3x3dbl_3", f.Conv(96, 96, 3, padding: 1));
            _pool = RegisterModule("branch_pool", f.Conv(cin, poolFeatures, 1));
        }

        protected override IEnumerable<Tensor> Branches(Tensor x) =>
            [_b1.Forward(x), Chain(x, _b5a, _b5b), Chain(x, _b3a, _b3b, _b3c), _pool.Forward(AveragePool(x))];
    }

    /// <summary>torchvision's InceptionB (Mixed_6a, unchanged in FID): 3×3 s2 | 1×1 → 3×3 → 3×3 s2 | max-pool 3×3 s2.</summary>
    private sealed class InceptionB : Block
    {
        private readonly BasicConv2d _b3, _d1, _d2, _d3;

        public InceptionB(Factory f, int cin)
        {
            _b3 = RegisterModule("branch3x3", f.Conv(cin, 384, 3, stride: 2));
            _d1 = RegisterModule("branch3x3dbl_1", f.Conv(cin, 64, 1));
            _d2 = RegisterModule("branch3x3dbl_2", f.Conv(64, 96, 3, padding: 1));
            _d3 = RegisterModule("branch3x3dbl_3", f.Conv(96, 96, 3, stride: 2));
        }

        protected override IEnumerable<Tensor> Branches(Tensor x) => [_b3.Forward(x), Chain(x, _d1, _d2, _d3), x.MaxPool2d(3, 2)];
    }

    /// <summary>FIDInceptionC: 1×1 | 1×1 → 1×7 → 7×1 | 1×1 → 7×1 → 1×7 → 7×1 → 1×7 | avg-pool → 1×1.</summary>
    private sealed class InceptionC : Block
    {
        private readonly BasicConv2d _b1, _pool;
        private readonly BasicConv2d[] _b7, _d7;

        public InceptionC(Factory f, int cin, int c7)
        {
            (int, int) row = (1, 7), column = (7, 1), padRow = (0, 3), padColumn = (3, 0);
            _b1 = RegisterModule("branch1x1", f.Conv(cin, 192, 1));
            _b7 =
            [
                RegisterModule("branch7x7_1", f.Conv(cin, c7, 1)),
                RegisterModule("branch7x7_2", f.Conv(c7, c7, row, padRow)),
                RegisterModule("branch7x7_3", f.Conv(c7, 192, column, padColumn)),
            ];
            _d7 =
            [
                RegisterModule("branch7x7dbl_1", f.Conv(cin, c7, 1)),
                RegisterModule("branch7x7dbl_2", f.Conv(c7, c7, column, padColumn)),
                RegisterModule("branch7x7dbl_3", f.Conv(c7, c7, row, padRow)),
                RegisterModule("branch7x7dbl_4", f.Conv(c7, c7, column, padColumn)),
                RegisterModule("branch7x7dbl_5", f.Conv(c7, 192, row, padRow)),
            ];
            _pool = RegisterModule("branch_pool", f.Conv(cin, 192, 1));
        }

        protected override IEnumerable<Tensor> Branches(Tensor x) =>
            [_b1.Forward(x), Chain(x, _b7), Chain(x, _d7), _pool.Forward(AveragePool(x))];
    }

    /// <summary>torchvision's InceptionD (Mixed_7a, unchanged in FID): 1×1 → 3×3 s2 | 1×1 → 1×7 → 7×1 → 3×3 s2 | max-pool 3×3 s2.</summary>
    private sealed class InceptionD : Block
    {
        private readonly BasicConv2d[] _b3, _b7;

        public InceptionD(Factory f, int cin)
        {
            _b3 =
            [
                RegisterModule("branch3x3_1", f.Conv(cin, 192, 1)),
                RegisterModule("branch3x3_2", f.Conv(192, 320, 3, stride: 2)),
            ];
            _b7 =
            [
                RegisterModule("branch7x7x3_1", f.Conv(cin, 192, 1)),
                RegisterModule("branch7x7x3_2", f.Conv(192, 192, (1, 7), (0, 3))),
                RegisterModule("branch7x7x3_3", f.Conv(192, 192, (7, 1), (3, 0))),
                RegisterModule("branch7x7x3_4", f.Conv(192, 192, 3, stride: 2)),
            ];
        }

        protected override IEnumerable<Tensor> Branches(Tensor x) => [Chain(x, _b3), Chain(x, _b7), x.MaxPool2d(3, 2)];
    }

    /// <summary>
    /// FIDInceptionE_1 (Mixed_7b) and FIDInceptionE_2 (Mixed_7c): 1×1 | 1×1 → (1×3 ‖ 3×1) | 1×1 → 3×3 → (1×3 ‖ 3×1) |
    /// pool → 1×1, the pool an average without the padding counted (E_1) or a 3×3 stride-1 max (E_2).
    /// </summary>
    private sealed class InceptionE : Block
    {
        private readonly BasicConv2d _b1, _b3, _b3a, _b3b, _d1, _d2, _d3a, _d3b, _pool;
        private readonly bool _maxPoolBranch;

        public InceptionE(Factory f, int cin, bool maxPoolBranch)
        {
            _maxPoolBranch = maxPoolBranch;
            _b1 = RegisterModule("branch1x1", f.Conv(cin, 320, 1));
            _b3 = RegisterModule("branch3x3_1", f.Conv(cin, 384, 1));
            _b3a = RegisterModule("branch3x3_2a", f.Conv(384, 384, (1, 3), (0, 1)));
            _b3b = RegisterModule("branch3x3_2b", f.Conv(384, 384, (3, 1), (1, 0)));
            _d1 = RegisterModule("branch3x3dbl_1", f.Conv(cin, 448, 1));
            _d2 = RegisterModule("branch3x3dbl_2", f.Conv(448, 384, 3, padding: 1));
            _d3a = RegisterModule("branch3x3dbl_3a", f.Conv(384, 384, (1, 3), (0, 1)));
            _d3b = RegisterModule("branch3x3dbl_3b", f.Conv(384, 384, (3, 1), (1, 0)));
            _pool = RegisterModule("branch_pool", f.Conv(cin, 192, 1));
        }

        protected override IEnumerable<Tensor> Branches(Tensor x)
        {
            var b3 = _b3.Forward(x);
            var d = Chain(x, _d1, _d2);
            var pooled = _maxPoolBranch ? x.MaxPool2d(3, 1, 1) : AveragePool(x);
            return [_b1.Forward(x), Tensor.Concat([_b3a.Forward(b3), _b3b.Forward(b3)], 1), Tensor.Concat([_d3a.Forward(d), _d3b.Forward(d)], 1), _pool.Forward(pooled)];
        }
    }
}

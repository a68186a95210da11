
namespace BlurVae.Training.Engine.Autograd;

/// <summary>
/// Cuts the last two axes into non-overlapping b×b blocks: x[..., H, W] → y[..., H/b, W/b, b, b] with
/// y[..., I, J, u, v] = x[..., I·b + u, J·b + v] (blocks in row-major order, as torch's Unfold with stride b).
/// A permutation, so the backward is the inverse permutation. Host-side index work, so any backend works.
/// </summary>
public sealed class BlockUnfoldFunction : Function
{
    private int _b;

    public static Tensor Forward(Tensor x, int blockSize)
    {
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "Block size must be positive.");
        if (x.Rank < 2) throw new ArgumentException($"Block unfolding needs [..., H, W], got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        int h = x.Shape[^2], w = x.Shape[^1];
        if (h % blockSize != 0 || w % blockSize != 0)
            throw new ArgumentException($"Block unfolding into {blockSize}×{blockSize} blocks needs H and W divisible by {blockSize}, got {Tensor.ShapeString(x.Shape)}.", nameof(x));
        var shape = new int[x.Rank + 2];
        Array.Copy(x.Shape, shape, x.Rank - 2);
        shape[^4] = h / blockSize;
        shape[^3] = w / blockSize;
        shape[^2] = blockSize;
        shape[^1] = blockSize;
        var xv = x.ToDoubleArray();
        var yv = new double[xv.Length];
        Permute(xv, yv, x.Length / Math.Max(1, h * w), h, w, blockSize, unfold: true);
        var y = Tensor.FromArray(yv, shape, x.DType, x.Backend);
        return new BlockUnfoldFunction { _b = blockSize }.Record(y, x);
    }

    public override Tensor?[] Backward(Tensor g)
    {
        var x = Inputs[0];
        int h = x.Shape[^2], w = x.Shape[^1];
        var dx = new double[x.Length];
        Permute(dx, g.ToDoubleArray(), x.Length / Math.Max(1, h * w), h, w, _b, unfold: false);
        return [Tensor.FromArray(dx, x.Shape, x.DType, x.Backend)];
    }

    // image[p, I·b+u, J·b+v] ↔ blocks[p, I, J, u, v]; unfold copies image → blocks, otherwise blocks → image.
    private static void Permute(double[] image, double[] blocks, int planes, int h, int w, int b, bool unfold)
    {
        int bw = w / b, bh = h / b;
        for (int p = 0; p < planes; p++)
            for (int bi = 0; bi < bh; bi++)
                for (int bj = 0; bj < bw; bj++)
                    for (int u = 0; u < b; u++)
                    {
                        int img = (p * h + bi * b + u) * w + bj * b;
                        int blk = (((p * bh + bi) * bw + bj) * b + u) * b;
                        if (unfold) Array.Copy(image, img, blocks, blk, b);
                        else Array.Copy(blocks, blk, image, img, b);
                    }
    }
}

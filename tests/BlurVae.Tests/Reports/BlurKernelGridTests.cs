using static BlurVae.Tests.Reports.ReportTestFiles;

namespace BlurVae.Tests.Reports;

[TestFixture, Category("Reports")]
public class BlurKernelGridTests
{
    // Two 3×3 kernels: a centred delta, and a cross with ½ in the middle and ⅛ around it.
    private static Tensor Kernels(double crossCentre = 0.5)
    {
        var v = new double[18];
        v[4] = 1;
        v[9 + 4] = crossCentre;
        foreach (var i in new[] { 1, 3, 5, 7 }) v[9 + i] = 0.125;
        return Tensor.FromArray(v, [2, 3, 3]);
    }

    [Test]
    public void KernelsAreNormalisedToTheirMaxAndEnlarged()
    {
        using var files = new ReportTestFiles(nameof(KernelsAreNormalisedToTheirMaxAndEnlarged));
        var path = files.PathOf("kernels.png");
        // Kernel cells are 3·4 = 12 px, gap 2, two columns: the picture is labelWidth + 2 + 2·14 wide and 2 + 2·14 high
        // (the label column's width depends on the font, so it is read off the picture).
        BlurKernelGrid.Save(path, [Kernels(), Kernels(0.25)], ["epoch 1", "epoch 10"], kernelScale: 4, gap: 2, background: SKColors.Blue);
        using var bmp = Decode(path);
        int labelWidth = bmp.Width - (2 + 2 * 14);
        Assert.That(labelWidth, Is.GreaterThan(0));
        Assert.That(bmp.Height, Is.EqualTo(2 + 2 * 14));
        int X(int col, int tap) => labelWidth + 2 + col * 14 + tap * 4;
        int Y(int row, int tap) => 2 + row * 14 + tap * 4;
        // Epoch row 0: the delta is white at the centre and black elsewhere; the cross's centre is its max (white)
        // and its arms ⅛ / ½ = ¼ of it: round(0.25·255) = 64.
        AssertPixel(bmp, X(0, 1), Y(0, 1), 255, 255, 255, "delta centre");
        AssertPixel(bmp, X(0, 1) + 3, Y(0, 1) + 3, 255, 255, 255, "delta centre, last enlarged pixel");
        AssertPixel(bmp, X(0, 0), Y(0, 0), 0, 0, 0, "delta corner");
        AssertPixel(bmp, X(1, 1), Y(0, 1), 255, 255, 255, "cross centre");
        AssertPixel(bmp, X(1, 0), Y(0, 1), 64, 64, 64, "cross arm");
        AssertPixel(bmp, X(1, 0), Y(0, 0), 0, 0, 0, "cross corner");
        // Epoch row 1: the cross's centre ¼ is its max and the arms ⅛ are half of it: round(0.5·255) = 128.
        AssertPixel(bmp, X(1, 1), Y(1, 1), 255, 255, 255, "second cross centre");
        AssertPixel(bmp, X(1, 2), Y(1, 1), 128, 128, 128, "second cross arm");
        AssertPixel(bmp, labelWidth, 0, 0, 0, 255, "background");
    }

    [Test]
    public void ImagesFormTheFirstRow()
    {
        using var files = new ReportTestFiles(nameof(ImagesFormTheFirstRow));
        var path = files.PathOf("with-images.png");
        var images = Tensor.Full([2, 1, 16, 16], 1.0);
        // Columns are max(3·4, 16·1) = 16 wide; the kernels (12 px) are centred: offset (16 − 12) / 2 = 2.
        BlurKernelGrid.Save(path, [Kernels()], ["epoch 5"], images, kernelScale: 4, imageScale: 1, gap: 2, background: SKColors.Blue);
        using var bmp = Decode(path);
        int labelWidth = bmp.Width - (2 + 2 * 18);
        Assert.That(bmp.Height, Is.EqualTo(2 + 16 + 2 + 12 + 2));
        AssertPixel(bmp, labelWidth + 2, 2, 255, 255, 255, "image top-left");
        AssertPixel(bmp, labelWidth + 2 + 18 + 15, 2 + 15, 255, 255, 255, "second image bottom-right");
        AssertPixel(bmp, labelWidth + 2 + 2 + 4, 2 + 16 + 2 + 4, 255, 255, 255, "delta centre under the first image");
        AssertPixel(bmp, labelWidth + 2, 2 + 16 + 2 + 4, 0, 0, 255, "background beside the narrower kernel");
    }

    [Test]
    public void LooksLikeFigureTwo()
    {
        // A picture to look at: Gaussian kernels shrinking over epochs, under four smooth test images.
        using var files = new ReportTestFiles(nameof(LooksLikeFigureTwo));
        int k = 11, n = 4;
        var epochs = new[] { 1, 11, 15, 100 };
        var perEpoch = new List<Tensor>();
        foreach (var e in epochs)
        {
            var v = new double[n * k * k];
            for (int i = 0; i < n; i++)
            {
                double s = (3.0 + i * 0.5) / Math.Sqrt(e);
                for (int u = 0; u < k; u++)
                    for (int w = 0; w < k; w++) v[(i * k + u) * k + w] = Math.Exp(-((u - 5) * (u - 5) + (w - 5 - i % 2) * (w - 5 - i % 2)) / (2 * s * s));
            }
            perEpoch.Add(Tensor.FromArray(v, [n, k, k]));
        }
        var img = new double[n * 3 * 32 * 32];
        for (int i = 0; i < img.Length; i++) img[i] = Math.Sin(i * 0.05 + (i / 1024) * 0.7);
        var path = files.PathOf("figure2.png");
        BlurKernelGrid.Save(path, perEpoch, epochs.Select(e => $"epoch {e}").ToList(), Tensor.FromArray(img, [n, 3, 32, 32]), kernelScale: 6, imageScale: 2);
        using var bmp = Decode(path);
        Assert.That(bmp.Height, Is.EqualTo(2 + 64 + 2 + 4 * (66 + 2)));
    }

    [Test]
    public void BadArgumentsThrowClearly()
    {
        using var files = new ReportTestFiles(nameof(BadArgumentsThrowClearly));
        var path = files.PathOf("bad.png");
        var neg = Tensor.FromArray(new double[9] { 0, 0, 0, 0, 1, -0.1, 0, 0, 0 }, [1, 3, 3]);
        Assert.Multiple(() =>
        {
            Assert.That(() => BlurKernelGrid.Save(path, [], []), Throws.ArgumentException);
            Assert.That(() => BlurKernelGrid.Save(path, [Kernels()], ["a", "b"]), Throws.ArgumentException.With.Message.Contains("2 epoch labels for 1"));
            Assert.That(() => BlurKernelGrid.Save(path, [Kernels(), Tensor.Ones([3, 3, 3])], ["a", "b"]), Throws.ArgumentException.With.Message.Contains("kernelsPerEpoch[1]"));
            Assert.That(() => BlurKernelGrid.Save(path, [neg], ["a"]), Throws.ArgumentException.With.Message.Contains("non-negative"));
            Assert.That(() => BlurKernelGrid.Save(path, [Tensor.Zeros([1, 3, 3])], ["a"]), Throws.ArgumentException.With.Message.Contains("all zeros"));
            Assert.That(() => BlurKernelGrid.Save(path, [Kernels()], ["a"], Tensor.Zeros([3, 1, 8, 8])), Throws.ArgumentException.With.Message.Contains("3 images"));
            Assert.That(() => BlurKernelGrid.Save(path, [Tensor.Ones([3, 3])], ["a"]), Throws.ArgumentException.With.Message.Contains("[N, k, k]"));
            Assert.That(() => BlurKernelGrid.Save(path, [Kernels()], ["a"], kernelScale: 0), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
        Assert.That(File.Exists(path), Is.False);
    }
}


namespace BlurVae.Tests.Data;

[TestFixture, Category("Data")]
public class IdxReaderTests : TempDirectoryTest
{
    [TestCase(false), TestCase(true)]
    public void ReadsImagesAndLabels(bool gzip)
    {
        var images = PathOf("train-images-idx3-ubyte" + (gzip ? ".gz" : ""));
        var labels = PathOf("train-labels-idx1-ubyte" + (gzip ? ".gz" : ""));
        TestFiles.Write(images, TestFiles.IdxImages(5, 4, 3, out var pixels), gzip);
        TestFiles.Write(labels, TestFiles.IdxLabels([3, 1, 4, 1, 5]), gzip);
        var d = IdxReader.ReadImages(images, labels);
        Assert.That((d.Count, d.Channels, d.Height, d.Width), Is.EqualTo((5, 1, 4, 3)));
        Assert.That(d.Labels, Is.EqualTo(new[] { 3, 1, 4, 1, 5 }));
        for (int i = 0; i < 5; i++)
            Assert.That(d.GetImage(i), Is.EqualTo(pixels.Skip(i * 12).Take(12).Select(b => b / 255f)));
        Assert.That(IdxReader.ReadImages(images).Labels, Is.Null);
    }

    private DatasetFormatException Bad(byte[] data, bool gzip = false, string name = "bad-images-idx3-ubyte")
    {
        var path = PathOf(name);
        TestFiles.Write(path, data, gzip);
        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path))!;
        Assert.That(e.Message, Does.StartWith(path), "the message names the file");
        Assert.That(e.FilePath, Is.EqualTo(path));
        return e;
    }

    [Test]
    public void RejectsBadMagic()
    {
        var data = TestFiles.IdxImages(2, 2, 2, out _);
        data[0] = 0x12;
        Assert.That(Bad(data).Message, Does.Contain("bad magic"));
    }

    [Test]
    public void RejectsUnsupportedElementType()
    {
        var data = TestFiles.Idx(0x0D, [1, 2, 2], new byte[16]);
        Assert.That(Bad(data).Message, Does.Contain("unsupported element type 0x0D (float32)"));
    }

    [Test]
    public void RejectsWrongRank()
    {
        Assert.That(Bad(TestFiles.IdxLabels([1, 2])).Message, Does.Contain("has rank 1"));
    }

    [TestCase(false), TestCase(true)]
    public void RejectsTruncatedData(bool gzip)
    {
        var data = TestFiles.IdxImages(3, 4, 4, out _);
        Assert.That(Bad(data[..^5], gzip).Message, Does.Contain("truncated").And.Contain("3×4×4 = 48 bytes").And.Contain("only 43"));
    }

    [Test]
    public void RejectsTruncatedHeaderAndTinyFiles()
    {
        var data = TestFiles.IdxImages(3, 4, 4, out _);
        Assert.That(Bad(data[..10]).Message, Does.Contain("shorter than the 16-byte header"));
        Assert.That(Bad(data[..2]).Message, Does.Contain("truncated"));
    }

    [Test]
    public void RejectsHeaderDimsThatDisagreeWithTheFileSize()
    {
        var data = TestFiles.IdxImages(3, 4, 4, out _).Concat(new byte[16]).ToArray();
        Assert.That(Bad(data).Message, Does.Contain("disagree with the file size"));
    }

    [Test]
    public void RejectsCorruptGzip()
    {
        var gz = TestFiles.Gzip(TestFiles.IdxImages(50, 8, 8, out _));
        for (int i = 12; i < gz.Length; i++) gz[i] ^= 0x5A;
        Assert.That(Bad(gz).Message, Does.Contain("gzip").Or.Contain("truncated").Or.Contain("magic"));
        var cut = TestFiles.Gzip(TestFiles.IdxImages(50, 8, 8, out _));
        Assert.That(Bad(cut[..(cut.Length / 2)], name: "cut.gz").Message, Does.Contain("truncated"));
    }

    [Test]
    public void RejectsLabelCountMismatch()
    {
        var images = PathOf("x-images-idx3-ubyte");
        var labels = PathOf("x-labels-idx1-ubyte");
        TestFiles.Write(images, TestFiles.IdxImages(3, 2, 2, out _));
        TestFiles.Write(labels, TestFiles.IdxLabels([1, 2]));
        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(images, labels))!;
        Assert.That(e.Message, Does.StartWith(labels).And.Contain("2 labels").And.Contain("3 images"));
    }

    [Test]
    public void MissingFileIsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => IdxReader.ReadImages(PathOf("nothing")));
    }

    [Test]
    public void MnistDirectoryGivesItsOwnSplit()
    {
        TestFiles.Write(PathOf("train-images-idx3-ubyte.gz"), TestFiles.IdxImages(6, 5, 5, out _), gzip: true);
        TestFiles.Write(PathOf("train-labels-idx1-ubyte.gz"), TestFiles.IdxLabels([0, 1, 2, 3, 4, 5]), gzip: true);
        TestFiles.Write(PathOf("t10k-images-idx3-ubyte"), TestFiles.IdxImages(2, 5, 5, out _));
        Assert.That(MnistDirectoryReader.IsMnistDirectory(Dir));
        var (train, test) = MnistDirectoryReader.Read(Dir);
        Assert.That((train.Count, test.Count, train.Height), Is.EqualTo((6, 2, 5)));
        Assert.That(train.Labels, Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5 }));
        Assert.That(test.Labels, Is.Null, "label files are optional");
    }

    [Test]
    public void MnistDirectoryWithDifferentImageSizesIsRejected()
    {
        TestFiles.Write(PathOf("train-images-idx3-ubyte"), TestFiles.IdxImages(2, 5, 5, out _));
        TestFiles.Write(PathOf("t10k-images-idx3-ubyte"), TestFiles.IdxImages(2, 4, 4, out _));
        Assert.That(() => MnistDirectoryReader.Read(Dir), Throws.TypeOf<DatasetFormatException>().With.Message.Contains("5×5").And.Message.Contains("4×4"));
    }

    [Test]
    public void MnistDirectoryWithoutTestImagesIsNotOne()
    {
        TestFiles.Write(PathOf("train-images-idx3-ubyte"), TestFiles.IdxImages(2, 5, 5, out _));
        Assert.That(MnistDirectoryReader.IsMnistDirectory(Dir), Is.False);
        Assert.That(() => MnistDirectoryReader.Read(Dir), Throws.TypeOf<FileNotFoundException>().With.Message.Contains("t10k-images-idx3-ubyte"));
    }

    [Test]
    public void DebianFashionMnistWhenInstalled()
    {
        Assume.That(MnistDirectoryReader.IsMnistDirectory(DatasetCatalog.DebianFashionMnistDirectory), "dataset-fashion-mnist is not installed");
        var (train, test) = MnistDirectoryReader.Read(DatasetCatalog.DebianFashionMnistDirectory);
        Assert.That((train.Count, test.Count, train.Height, train.Width), Is.EqualTo((60000, 10000, 28, 28)));
        Assert.That(train.Labels!.Distinct().Order(), Is.EqualTo(Enumerable.Range(0, 10)));
    }
}

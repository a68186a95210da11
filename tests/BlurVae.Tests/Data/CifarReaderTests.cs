
namespace BlurVae.Tests.Data;

[TestFixture, Category("Data")]
public class CifarReaderTests : TempDirectoryTest
{
    [TestCase(false), TestCase(true)]
    public void ReadsRecords(bool gzip)
    {
        var path = PathOf("data_batch_1.bin");
        TestFiles.Write(path, TestFiles.CifarRecords([6, 9, 0]), gzip);
        var d = CifarReader.ReadFile(path);
        Assert.That((d.Count, d.Channels, d.Height, d.Width), Is.EqualTo((3, 3, 32, 32)));
        Assert.That(d.Labels, Is.EqualTo(new[] { 6, 9, 0 }));
        // Pixel (i, c, y, x) was written as (i + 50c + 32y + x) mod 256: planes R, G, B, rows of 32.
        foreach (var (i, c, y, x) in new[] { (0, 0, 0, 0), (1, 2, 5, 7), (2, 1, 31, 31) })
            Assert.That(d.GetPixel(i, c, y, x), Is.EqualTo(((i + 50 * c + 32 * y + x) % 256) / 255f));
    }

    private DatasetFormatException Bad(byte[] data)
    {
        var path = PathOf("bad.bin");
        TestFiles.Write(path, data);
        var e = Assert.Throws<DatasetFormatException>(() => CifarReader.ReadFile(path))!;
        Assert.That(e.Message, Does.StartWith(path));
        return e;
    }

    [Test]
    public void RejectsTruncatedRecords()
    {
        var data = TestFiles.CifarRecords([1, 2]);
        Assert.That(Bad(data[..^100]).Message, Does.Contain("not a whole number of 3073-byte records").And.Contain("1 records and 2973 bytes left over"));
    }

    [Test]
    public void RejectsEmptyFiles() => Assert.That(Bad([]).Message, Does.Contain("empty"));

    [Test]
    public void RejectsLabelsAboveNine()
    {
        var data = TestFiles.CifarRecords([1, 2]);
        data[3073] = 42;
        Assert.That(Bad(data).Message, Does.Contain("record 1 has label 42"));
    }

    [Test]
    public void DirectoryGivesItsOwnSplitInBatchOrder()
    {
        var dir = Path.Combine(Dir, "cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        TestFiles.Write(Path.Combine(dir, "data_batch_10.bin"), TestFiles.CifarRecords([3], firstImage: 100));
        TestFiles.Write(Path.Combine(dir, "data_batch_2.bin"), TestFiles.CifarRecords([2], firstImage: 20));
        TestFiles.Write(Path.Combine(dir, "data_batch_1.bin"), TestFiles.CifarRecords([1, 1], firstImage: 10));
        TestFiles.Write(Path.Combine(dir, "test_batch.bin"), TestFiles.CifarRecords([7]));
        TestFiles.Write(Path.Combine(dir, "batches.meta.txt"), "airplane\n"u8.ToArray());
        var (train, test) = CifarReader.ReadDirectory(Dir);   // finds the subdirectory
        Assert.That(train.Labels, Is.EqualTo(new[] { 1, 1, 2, 3 }), "data_batch_1, _2, _10 in numeric order");
        Assert.That(train.GetPixel(3, 0, 0, 0), Is.EqualTo(100 / 255f));
        Assert.That(test.Labels, Is.EqualTo(new[] { 7 }));
    }

    [Test]
    public void DirectoryWithoutTestBatchIsRejected()
    {
        TestFiles.Write(PathOf("data_batch_1.bin"), TestFiles.CifarRecords([1]));
        Assert.That(() => CifarReader.ReadDirectory(Dir), Throws.TypeOf<FileNotFoundException>().With.Message.Contains("test_batch.bin"));
    }
}

namespace BlurVae.Tests.Data;

[TestFixture, Category("Data")]
public class DatasetCatalogTests : TempDirectoryTest
{
    [Test]
    public void EmbeddedFashionMnistIsTheTestSplit()
    {
        var d = DatasetCatalog.EmbeddedFashionMnist();
        Assert.That((d.Count, d.Channels, d.Height, d.Width), Is.EqualTo((10000, 1, 28, 28)));
        Assert.That(d.Labels, Is.Not.Null);
        Assert.That(d.Labels!.GroupBy(l => l).OrderBy(g => g.Key).Select(g => (g.Key, g.Count())),
            Is.EqualTo(Enumerable.Range(0, 10).Select(k => (k, 1000))), "1000 test images per class");
        var batch = d.GetBatch(Enumerable.Range(0, 500).ToArray()).ToFloatArray();
        Assert.That(batch.Min(), Is.EqualTo(-1f));
        Assert.That(batch.Max(), Is.EqualTo(1f));
        // Fashion-MNIST's mean intensity is about 0.286 in [0, 1], i.e. about −0.43 after scaling.
        Assert.That(batch.Average(), Is.InRange(-0.47, -0.39));
        Assert.That(DatasetCatalog.EmbeddedFashionMnist(), Is.SameAs(d), "loaded once");
        Assert.That(DatasetCatalog.EmbeddedFashionMnistLicense(), Does.Contain("Zalando SE").And.Contain("Permission is hereby granted"));
    }

    [Test]
    public void EmbeddedSpecSplitsAndPads()
    {
        var (train, test) = DatasetCatalog.Open("embedded", new DatasetOptions { Side = 32, Seed = 1 });
        Assert.That((train.Count, test.Count, train.Height, test.Width), Is.EqualTo((8000, 2000, 32, 32)));
        Assert.That(train.GetPixel(0, 0, 0, 0), Is.EqualTo(0f));
        var again = DatasetCatalog.Open("EMBEDDED", new DatasetOptions { Side = 32, Seed = 1 });
        Assert.That(again.Test.Labels, Is.EqualTo(test.Labels));
        Assert.That(() => DatasetCatalog.Open("embedded", new DatasetOptions { Side = 16 }),
            Throws.TypeOf<BlurVae.Training.Errors.UserError>().With.Message.Contains("never shrunk").And.Message.Contains("--side 32"));
        var rgb = DatasetCatalog.Open("embedded", new DatasetOptions { Channels = 3 }).Test;
        Assert.That(rgb.Channels, Is.EqualTo(3));
    }

    [Test]
    public void FashionMnistSpecUsesTheDebianDirectoryOrSaysHowToGetIt()
    {
        var missing = PathOf("not-installed");
        Assert.That(() => DatasetCatalog.Open("fashion-mnist", new DatasetOptions(), missing),
            Throws.TypeOf<DirectoryNotFoundException>().With.Message.Contains("apt-get install dataset-fashion-mnist").And.Message.Contains("embedded"));
        TestFiles.Write(PathOf("train-images-idx3-ubyte.gz"), TestFiles.IdxImages(7, 28, 28, out _), gzip: true);
        TestFiles.Write(PathOf("t10k-images-idx3-ubyte.gz"), TestFiles.IdxImages(3, 28, 28, out _), gzip: true);
        var (train, test) = DatasetCatalog.Open("fashion-mnist", new DatasetOptions { Side = 32 }, Dir);
        Assert.That((train.Count, test.Count, train.Height), Is.EqualTo((7, 3, 32)));
    }

    [Test]
    public void IdxFileFindsItsLabelsAndIsSplit()
    {
        var images = PathOf("train-images-idx3-ubyte");
        TestFiles.Write(images, TestFiles.IdxImages(10, 4, 4, out _));
        TestFiles.Write(PathOf("train-labels-idx1-ubyte.gz"), TestFiles.IdxLabels(Enumerable.Range(0, 10).ToArray()), gzip: true);
        var (train, test) = DatasetCatalog.Open(images, new DatasetOptions { TrainFraction = 0.7, Seed = 2 });
        Assert.That((train.Count, test.Count), Is.EqualTo((7, 3)));
        Assert.That(train.Labels!.Concat(test.Labels!).Order(), Is.EqualTo(Enumerable.Range(0, 10)));
    }

    [Test]
    public void DirectoriesAreRecognised()
    {
        var cifar = Path.Combine(Dir, "cifar");
        Directory.CreateDirectory(cifar);
        TestFiles.Write(Path.Combine(cifar, "data_batch_1.bin"), TestFiles.CifarRecords([1, 2, 3]));
        TestFiles.Write(Path.Combine(cifar, "test_batch.bin"), TestFiles.CifarRecords([4]));
        var c = DatasetCatalog.Open(cifar, new DatasetOptions { Channels = 1 });
        Assert.That((c.Train.Count, c.Test.Count, c.Train.Channels, c.Train.Height), Is.EqualTo((3, 1, 1, 32)));

        var faces = Path.Combine(Dir, "faces");
        Directory.CreateDirectory(faces);
        for (int i = 0; i < 5; i++)
            File.WriteAllBytes(Path.Combine(faces, $"{i:D6}.jpg"), TestFiles.Image(50, 60, (x, y) => new SKColor((byte)x, (byte)y, 9), SKEncodedImageFormat.Jpeg, 90));
        var f = DatasetCatalog.Open(faces, new DatasetOptions { Side = 16 });
        Assert.That((f.Train.Count, f.Test.Count, f.Train.Channels, f.Train.Height), Is.EqualTo((4, 1, 3, 16)));
    }

    [Test]
    public void NiftiFilesAndFolders()
    {
        var values = Enumerable.Range(0, 600).Select(i => (double)(i % 37)).ToArray();
        var one = PathOf("one.nii");
        File.WriteAllBytes(one, TestFiles.Nifti([12, 10, 5], 4, values));
        var single = DatasetCatalog.Open(one, new DatasetOptions { Side = 8, PatchCount = 10, MinPatchForeground = 0 });
        Assert.That((single.Train.Count, single.Test.Count, single.Train.Height), Is.EqualTo((8, 2, 8)));

        var folder = Path.Combine(Dir, "mri");
        Directory.CreateDirectory(folder);
        for (int k = 0; k < 3; k++)
            TestFiles.Write(Path.Combine(folder, $"s{k}.nii.gz"), TestFiles.Nifti([12, 10, 5], 4, values), gzip: true);
        var (train, test) = DatasetCatalog.Open(folder, new DatasetOptions { Side = 8, PatchCount = 20, TrainFraction = 0.67 });
        Assert.That((train.Count, test.Count), Is.EqualTo((13, 7)));
        Assert.That(train.Name, Does.StartWith("2 training volumes"), "two volumes train, one tests");
        Assert.That(test.Name, Does.StartWith("1 test volumes"));
    }

    [Test]
    public void UnknownSpecsAndFilesAreClearErrors()
    {
        Assert.That(() => DatasetCatalog.Open(PathOf("nope")), Throws.TypeOf<FileNotFoundException>().With.Message.Contains("neither 'embedded'"));
        var junk = PathOf("junk.dat");
        File.WriteAllText(junk, "hello");
        Assert.That(() => DatasetCatalog.Open(junk), Throws.TypeOf<DatasetFormatException>().With.Message.StartsWith(junk));
        Assert.Throws<ArgumentException>(() => DatasetCatalog.Open(" "));
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetCatalog.Open("embedded", new DatasetOptions { Channels = 2 }));
    }
}

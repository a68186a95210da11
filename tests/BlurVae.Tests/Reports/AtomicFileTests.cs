namespace BlurVae.Tests.Reports;

[TestFixture, Category("Reports")]
public class AtomicFileTests
{
    [Test]
    public void CreatesDirectoriesAndReplacesExistingFiles()
    {
        using var files = new ReportTestFiles(nameof(CreatesDirectoriesAndReplacesExistingFiles));
        var path = files.PathOf("a/b/c.txt");
        AtomicFile.WriteAllText(path, "first");
        AtomicFile.WriteAllText(path, "second");
        Assert.That(File.ReadAllText(path), Is.EqualTo("second"));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Has.Length.EqualTo(1), "no temporary files left");
    }

    [Test]
    public void AFailedWriteKeepsTheOldFileAndLeavesNoTemporary()
    {
        using var files = new ReportTestFiles(nameof(AFailedWriteKeepsTheOldFileAndLeavesNoTemporary));
        var path = files.PathOf("keep.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.That(() => AtomicFile.Write(path, s =>
        {
            s.Write([9, 9]);
            throw new InvalidOperationException("encoder failed");
        }), Throws.InvalidOperationException.With.Message.EqualTo("encoder failed"));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(Directory.GetFiles(files.Directory), Has.Length.EqualTo(1));
    }
}

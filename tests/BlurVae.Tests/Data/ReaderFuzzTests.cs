using System.Globalization;

namespace BlurVae.Tests.Data;

/// <summary>
/// Seeded fuzzing of every reader the CLI opens (IDX, CIFAR-10, NIfTI, PNG/JPEG folder, safetensors checkpoint, JSON
/// config): random truncations, bit flips and header lies applied to a valid file. Each case must either read (a flip in
/// pixel data is still a valid file) or fail with an exception the CLI reports as a user error (exit 1 with a message),
/// within a time limit and an allocation bound. CI runs a few cases per reader; BLURVAE_FUZZ_CASES=N runs N per reader
/// and BLURVAE_FUZZ_SEED picks another seed.
/// </summary>
[TestFixture, Category("Data")]
public class ReaderFuzzTests : TempDirectoryTest
{
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(20);
    private const long AllocationBound = 512L << 20;

    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("BLURVAE_FUZZ_CASES"), out int n) && n > 0 ? n : 12;
    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("BLURVAE_FUZZ_SEED"), out int s) ? s : 12;

    [Test]
    public void IdxFile() => Fuzz(TestFiles.IdxImages(6, 28, 28, out _), "x-images-idx3-ubyte", p => DatasetCatalog.Open(p, Small));

    [Test]
    public void GzippedIdxFile() => Fuzz(TestFiles.Gzip(TestFiles.IdxImages(6, 28, 28, out _)), "x-images-idx3-ubyte.gz", p => DatasetCatalog.Open(p, Small));

    [Test]
    public void CifarBatch() => Fuzz(TestFiles.CifarRecords([1, 2, 3, 4, 5]), "data.bin", p => DatasetCatalog.Open(p, Small));

    [Test]
    public void NiftiVolume() =>
        Fuzz(TestFiles.Nifti([12, 12, 4], 16, Enumerable.Range(0, 576).Select(i => (double)(i % 17)).ToArray()), "v.nii",
            p => DatasetCatalog.Open(p, Small with { Side = 8, PatchCount = 6, MinPatchForeground = 0 }));

    [Test]
    public void ImageFolder()
    {
        string folder = PathOf("images");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < 3; i++)
            File.WriteAllBytes(Path.Combine(folder, $"{i}.png"), TestFiles.Image(12, 10, (x, y) => new SKColor((byte)(x * 20), (byte)(y * 20), (byte)i)));
        var jpeg = TestFiles.Image(10, 12, (x, y) => new SKColor((byte)(x * 9), 80, (byte)(y * 9)), SKEncodedImageFormat.Jpeg, 90);
        Fuzz(jpeg, Path.Combine("images", "victim.jpg"), _ => DatasetCatalog.Open(folder, Small with { Side = 8 }));
        Fuzz(File.ReadAllBytes(Path.Combine(folder, "0.png")), Path.Combine("images", "0.png"), _ => DatasetCatalog.Open(folder, Small with { Side = 8 }));
    }

    [Test]
    public void Checkpoint()
    {
        var options = new TrainOptions { Channels = [2, 4], Latent = 3, MlpHidden = 8, KernelSize = 3, BatchSize = 2, Device = "cpu" };
        string run = PathOf("run");
        TrainingCheckpoint.Save(new Trainer(options, 1, 16), Path.Combine(run, TrainingCheckpoint.FileName));
        Fuzz(File.ReadAllBytes(Path.Combine(run, TrainingCheckpoint.FileName)), Path.Combine("run", TrainingCheckpoint.FileName),
            _ => RunCommands.Restore(new DirectoryInfo(run), null, TextWriter.Null));
    }

    [Test]
    public void ConfigFile()
    {
        var json = Encoding.UTF8.GetBytes("""{ "epochs": 7, "loss": "l1", "channels": [4, 8], "beta": 0.5, "eps": null, "device": "cpu" }""");
        Fuzz(json, "config.json", p => TrainOptions.FromJson(File.ReadAllText(p), p).Validate());
    }

    private static readonly DatasetOptions Small = new() { Seed = 1 };

    /// <summary>Writes mutated copies of <paramref name="valid"/> to <paramref name="name"/> and runs <paramref name="read"/> on each.</summary>
    private void Fuzz(byte[] valid, string name, Action<string> read)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, valid);
        Assert.DoesNotThrow(() => read(path), "the unmutated file must read");
        var rng = new Random(Seed);
        for (int c = 0; c < Cases; c++)
        {
            var (bytes, what) = Mutate(valid, rng);
            File.WriteAllBytes(path, bytes);
            string label = $"{name}, case {c} (seed {Seed}): {what}";
            long allocated = GC.GetTotalAllocatedBytes(precise: false);
            var clock = Stopwatch.StartNew();
            var task = Task.Run(() => read(path));
            Assert.That(Task.WaitAny([task], CaseTimeout), Is.EqualTo(0), $"{label}: no answer within {CaseTimeout.TotalSeconds} s (a hang)");
            if (task.Exception?.InnerException is { } e)
            {
                Assert.That(CliErrors.IsUserError(e), Is.True, $"{label}: {e.GetType().Name} would be reported as an internal error:\n{e}");
                Assert.That(CliErrors.MessageOf(e), Is.Not.Empty, label);
            }
            long used = GC.GetTotalAllocatedBytes(precise: false) - allocated;
            Assert.That(used, Is.LessThan(AllocationBound), $"{label}: allocated {used:N0} bytes in {clock.Elapsed.TotalSeconds:F1} s");
        }
        File.WriteAllBytes(path, valid);
    }

    private static (byte[] Bytes, string What) Mutate(byte[] valid, Random rng)
    {
        var bytes = (byte[])valid.Clone();
        // Headers are where lies do harm: half of the flips and every lie land in the first 352 bytes (NIfTI's header).
        int Offset(int width) => rng.Next(2) == 0 || bytes.Length <= 352 ? rng.Next(Math.Max(1, Math.Min(bytes.Length, 352) - width + 1)) : rng.Next(bytes.Length - width + 1);
        switch (rng.Next(3))
        {
            case 0:
                int length = rng.Next(bytes.Length);
                return (bytes[..length], $"truncated to {length} of {valid.Length} bytes");
            case 1:
                int flips = 1 + rng.Next(8);
                var at = new List<string>();
                for (int i = 0; i < flips; i++)
                {
                    int o = Offset(1), bit = rng.Next(8);
                    bytes[o] ^= (byte)(1 << bit);
                    at.Add(string.Create(CultureInfo.InvariantCulture, $"{o}:{bit}"));
                }
                return (bytes, "bit flips at " + string.Join(", ", at));
            default:
                uint[] lies = [0, 1, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, (uint)rng.Next()];
                uint lie = lies[rng.Next(lies.Length)];
                int width = Math.Min(bytes.Length, 1 << rng.Next(3));   // 1, 2 or 4 bytes
                int offset = Offset(width);
                for (int i = 0; i < width; i++) bytes[offset + i] = (byte)(lie >> (8 * i));
                return (bytes, string.Create(CultureInfo.InvariantCulture, $"{width}-byte field at {offset} set to 0x{lie:X}"));
        }
    }
}

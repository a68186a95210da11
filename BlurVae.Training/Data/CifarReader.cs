namespace BlurVae.Training.Data;

/// <summary>
/// CIFAR-10's binary version: files of 3073-byte records, a label byte 0..9 then 3072 bytes of a 32×32 RGB image as
/// three 1024-byte planes (R, G, B), each row-major, which is already the C, H, W layout. The directory form
/// (cifar-10-batches-bin) has data_batch_1.bin … data_batch_5.bin for training and test_batch.bin for testing.
/// </summary>
public static class CifarReader
{
    private const int Side = 32, ImageBytes = 3 * Side * Side, RecordBytes = 1 + ImageBytes;

    /// <summary>Reads one batch file (plain or gzip).</summary>
    public static ImageDataset ReadFile(string path, string? name = null) => ReadFiles([path], name ?? Path.GetFileName(path));

    /// <summary>Reads several batch files as one dataset, in the given order.</summary>
    public static ImageDataset ReadFiles(IReadOnlyList<string> paths, string name)
    {
        if (paths.Count == 0) throw new ArgumentException("No CIFAR-10 batch files given.", nameof(paths));
        var parts = new List<byte[]>();
        long records = 0;
        foreach (var path in paths)
        {
            var data = DataFile.ReadAllBytes(path);
            if (data.Length == 0) throw new DatasetFormatException(path, "empty file; a CIFAR-10 batch holds 3073-byte records.");
            if (data.Length % RecordBytes != 0)
                throw new DatasetFormatException(path, $"truncated or not CIFAR-10: {data.Length} bytes is not a whole number of 3073-byte records ({data.Length / RecordBytes} records and {data.Length % RecordBytes} bytes left over).");
            for (int r = 0; r < data.Length / RecordBytes; r++)
            {
                byte label = data[r * RecordBytes];
                if (label > 9)
                    throw new DatasetFormatException(path, $"record {r} has label {label}; CIFAR-10 labels are 0..9 (CIFAR-100's two-label records are not supported).");
            }
            parts.Add(data);
            records += data.Length / RecordBytes;
        }
        if (records * ImageBytes > Array.MaxLength) throw new DatasetFormatException(paths[0], $"{records} images do not fit in one in-memory array.");
        int n = (int)records;
        var pixels = new byte[(long)n * ImageBytes];
        var labels = new int[n];
        int k = 0;
        foreach (var data in parts)
            for (int r = 0; r < data.Length / RecordBytes; r++, k++)
            {
                labels[k] = data[r * RecordBytes];
                Array.Copy(data, r * RecordBytes + 1, pixels, (long)k * ImageBytes, ImageBytes);
            }
        return new ImageDataset(name, n, 3, Side, Side, pixels, labels);
    }

    /// <summary>
    /// The directory (or its cifar-10-batches-bin subdirectory) holding data_batch_*.bin and test_batch.bin,
    /// or null when it has neither.
    /// </summary>
    public static string? FindBatchDirectory(string directory)
    {
        foreach (var dir in new[] { directory, Path.Combine(directory, "cifar-10-batches-bin") })
            if (Directory.Exists(dir) && (TrainFiles(dir).Length > 0 || File.Exists(Path.Combine(dir, "test_batch.bin"))))
                return dir;
        return null;
    }

    /// <summary>Reads data_batch_*.bin (in numeric order) as the training set and test_batch.bin as the test set.</summary>
    public static DatasetSplit ReadDirectory(string directory)
    {
        var dir = FindBatchDirectory(directory)
            ?? throw new FileNotFoundException($"{directory}: no CIFAR-10 batches (data_batch_1.bin … data_batch_5.bin, test_batch.bin) here or in cifar-10-batches-bin/.");
        var train = TrainFiles(dir);
        var test = Path.Combine(dir, "test_batch.bin");
        if (train.Length == 0) throw new FileNotFoundException($"{dir}: has test_batch.bin but no data_batch_*.bin training files.");
        if (!File.Exists(test)) throw new FileNotFoundException($"{dir}: has training batches but no test_batch.bin.", test);
        return new DatasetSplit(ReadFiles(train, $"CIFAR-10 train ({train.Length} batches)"), ReadFiles([test], "CIFAR-10 test"));
    }

    private static string[] TrainFiles(string dir) =>
        Directory.GetFiles(dir, "data_batch_*.bin")
            .Select(f => (Path: f, Number: int.TryParse(Path.GetFileNameWithoutExtension(f)["data_batch_".Length..], out var k) ? k : -1))
            .Where(f => f.Number >= 0)
            .OrderBy(f => f.Number)
            .Select(f => f.Path)
            .ToArray();
}

namespace BlurVae.Training.Data;

/// <summary>How <see cref="DatasetCatalog.Open(string, DatasetOptions?)"/> shapes a dataset. Every member has a default.</summary>
public sealed record DatasetOptions
{
    public const int DefaultImageSide = 64;
    public const int DefaultPatchCount = 10_000;
    public const double DefaultMinPatchForeground = 0.1;

    /// <summary>
    /// Image side. Fixed-size sources (IDX, CIFAR-10, embedded) are zero-padded to it (never shrunk; null keeps
    /// 28 or 32); image folders are resized to it and NIfTI patches cut at it (null: 64).
    /// </summary>
    public int? Side { get; init; }

    /// <summary>1 (grey) or 3 (RGB); null keeps the source's (image folders: RGB).</summary>
    public int? Channels { get; init; }

    /// <summary>Seed of the train/test split (where the source has none) and of the NIfTI patch positions.</summary>
    public int Seed { get; init; }

    /// <summary>Training share where the source has no split of its own.</summary>
    public double TrainFraction { get; init; } = 0.8;

    /// <summary>NIfTI: patches to cut in all (train and test together).</summary>
    public int PatchCount { get; init; } = DefaultPatchCount;

    /// <summary>NIfTI: minimum fraction of a patch above <see cref="NiftiPatchSampler.ForegroundLevel"/>; 0 keeps every patch.</summary>
    public double MinPatchForeground { get; init; } = DefaultMinPatchForeground;

    /// <summary>Image folders: keep only the first this many readable images (name order).</summary>
    public int? MaxImages { get; init; }

    /// <summary>Image folders: skip undecodable files with a warning instead of failing.</summary>
    public bool SkipUnreadableImages { get; init; }

    /// <summary>Receives warnings (skipped files); null discards them.</summary>
    public Action<string>? Warning { get; init; }
}

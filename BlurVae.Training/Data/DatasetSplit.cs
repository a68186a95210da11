namespace BlurVae.Training.Data;

/// <summary>A training set and a held-out test set; deconstructs as <c>var (train, test) = ...</c>.</summary>
public sealed record DatasetSplit(ImageDataset Train, ImageDataset Test);

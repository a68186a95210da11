using BlurVae.Training.Checkpoints;

namespace BlurVae.Training.Train;

/// <summary>
/// A trainer's whole state in one checkpoint file (<see cref="CheckpointFile"/>, the format): the VAE as "vae" and
/// the blur-kernel generator as "kernel_generator", each with its Adam optimiser, and the run's options and image
/// geometry in the header. The run builds the parts; the format knows nothing of the trainer.
/// </summary>
public static class TrainingCheckpoint
{
    public const string FileName = CheckpointFile.FileName;

    private static CheckpointPart[] Parts(Trainer trainer) =>
        [new("vae", trainer.Vae, trainer.OptVae), new("kernel_generator", trainer.Generator, trainer.OptKernel)];

    public static void Save(Trainer trainer, string path) =>
        CheckpointFile.Save(path, Parts(trainer), trainer.Epoch, new CheckpointHeader(trainer.Channels, trainer.Side, trainer.Options.ToJson()));

    /// <summary>The options and image geometry stored in a checkpoint, to rebuild its trainer.</summary>
    public static (TrainOptions Options, int Channels, int Side) ReadHeader(string path)
    {
        var header = CheckpointFile.ReadHeader(path);
        return (TrainOptions.FromJson(header.OptionsJson, path + " (metadata 'options')"), header.Channels, header.Side);
    }

    /// <summary>Restores every tensor and counter into a trainer built with the checkpoint's options.</summary>
    public static void Load(Trainer trainer, string path)
    {
        // The Adam moments become new tensors: a captured CUDA graph would still update the old ones.
        trainer.DropGraphs();
        trainer.Epoch = CheckpointFile.Load(path, Parts(trainer));
    }
}

using System.Globalization;
using BlurVae.Training.Engine.Optim;
using BlurVae.Training.Train;

namespace BlurVae.Training.Checkpoints;

/// <summary>
/// A whole training state in one safetensors file: every parameter and buffer of the VAE ("vae.…") and of the kernel
/// generator ("kernel_generator.…"), both Adam optimisers' moments ("optim.vae.&lt;param&gt;.exp_avg" / ".exp_avg_sq",
/// likewise "optim.kernel_generator.…"), and in the metadata the completed epoch count, the optimisers' step counts,
/// the image geometry and the run's options as JSON. Parameter names follow PyTorch's module naming
/// ("vae.encoder.0.weight"), so a PyTorch mirror of the architecture loads them with load_state_dict.
/// </summary>
public static class TrainingCheckpoint
{
    public const string Format = "blurvae-checkpoint-1";
    public const string FileName = "checkpoint.safetensors";

    public static void Save(Trainer trainer, string path)
    {
        var tensors = new List<(string, Tensor)>();
        foreach (var (name, t) in trainer.Vae.NamedParameters("vae.").Concat(trainer.Vae.NamedBuffers("vae.")))
            tensors.Add((name, t));
        foreach (var (name, t) in trainer.Generator.NamedParameters("kernel_generator.").Concat(trainer.Generator.NamedBuffers("kernel_generator.")))
            tensors.Add((name, t));
        AddOptimizer(tensors, trainer.OptVae, trainer.Vae.NamedParameters(), "optim.vae.");
        AddOptimizer(tensors, trainer.OptKernel, trainer.Generator.NamedParameters(), "optim.kernel_generator.");
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["epoch"] = trainer.Epoch.ToString(CultureInfo.InvariantCulture),
            ["optim.vae.step"] = trainer.OptVae.StepCount.ToString(CultureInfo.InvariantCulture),
            ["optim.kernel_generator.step"] = trainer.OptKernel.StepCount.ToString(CultureInfo.InvariantCulture),
            ["channels"] = trainer.Channels.ToString(CultureInfo.InvariantCulture),
            ["side"] = trainer.Side.ToString(CultureInfo.InvariantCulture),
            ["options"] = trainer.Options.ToJson(),
        };
        SafeTensors.Write(path, tensors, metadata);
    }

    private static void AddOptimizer(List<(string, Tensor)> tensors, Adam opt, IEnumerable<(string Name, Tensor Value)> parameters, string prefix)
    {
        foreach (var (name, p) in parameters)
            if (opt.StateOf(p) is var (m, v, _))
            {
                tensors.Add((prefix + name + ".exp_avg", m));
                tensors.Add((prefix + name + ".exp_avg_sq", v));
            }
    }

    /// <summary>The options and image geometry stored in a checkpoint, to rebuild its trainer.</summary>
    public static (TrainOptions Options, int Channels, int Side) ReadHeader(string path)
    {
        var (_, meta) = SafeTensors.Read(path);
        if (!meta.TryGetValue("format", out var format) || format != Format)
            throw new InvalidDataException($"Checkpoint '{path}' is not a BlurVae training checkpoint (metadata 'format' is '{format ?? "missing"}', expected '{Format}').");
        return (TrainOptions.FromJson(Require(meta, "options", path), path + " (metadata 'options')"),
                ParseInt(meta, "channels", path), ParseInt(meta, "side", path));
    }

    /// <summary>Restores every tensor and counter into a trainer built with the checkpoint's options.</summary>
    public static void Load(Trainer trainer, string path)
    {
        var (tensors, meta) = SafeTensors.Read(path);
        // The Adam moments become new tensors: a captured CUDA graph would still update the old ones.
        trainer.DropGraphs();
        void Restore(IEnumerable<(string Name, Tensor Value)> targets) =>
            NamedTensors.Restore(targets, tensors, $"Checkpoint '{path}'", "was it written by a different architecture?");
        Restore(trainer.Vae.NamedParameters("vae.").Concat(trainer.Vae.NamedBuffers("vae.")));
        Restore(trainer.Generator.NamedParameters("kernel_generator.").Concat(trainer.Generator.NamedBuffers("kernel_generator.")));
        RestoreOptimizer(trainer.OptVae, trainer.Vae.NamedParameters(), "optim.vae.", ParseInt(meta, "optim.vae.step", path));
        RestoreOptimizer(trainer.OptKernel, trainer.Generator.NamedParameters(), "optim.kernel_generator.", ParseInt(meta, "optim.kernel_generator.step", path));
        trainer.Epoch = ParseInt(meta, "epoch", path);

        void RestoreOptimizer(Adam opt, IEnumerable<(string Name, Tensor Value)> parameters, string prefix, int steps)
        {
            opt.RestoreStepCount(steps);
            foreach (var (name, p) in parameters)
            {
                if (!tensors.TryGetValue(prefix + name + ".exp_avg", out var m) || !tensors.TryGetValue(prefix + name + ".exp_avg_sq", out var v))
                {
                    if (steps == 0) continue;
                    throw new InvalidDataException($"Checkpoint '{path}' has no optimiser state for '{name}'.");
                }
                var mt = p.ZerosLike();
                var vt = p.ZerosLike();
                mt.Backend.Upload(mt.Buffer, m.Values);
                vt.Backend.Upload(vt.Buffer, v.Values);
                opt.SetState(p, mt, vt, steps);
            }
        }
    }

    private static string Require(Dictionary<string, string> meta, string key, string path) =>
        meta.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"Checkpoint '{path}' has no metadata '{key}'.");

    private static int ParseInt(Dictionary<string, string> meta, string key, string path) =>
        int.TryParse(Require(meta, key, path), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new InvalidDataException($"Checkpoint '{path}': metadata '{key}' is not an integer.");
}

using System.Globalization;
using BlurVae.Training.Engine.Nn;
using BlurVae.Training.Engine.Optim;

namespace BlurVae.Training.Checkpoints;

/// <summary>One module of a checkpoint and its optimiser, stored under "&lt;Name&gt;.…" and "optim.&lt;Name&gt;.…".</summary>
public sealed record CheckpointPart(string Name, Module Module, Adam Optimizer);

/// <summary>What a checkpoint says about the run, to rebuild its modules: the image geometry and the run's options as JSON.</summary>
public sealed record CheckpointHeader(int Channels, int Side, string OptionsJson);

/// <summary>
/// The checkpoint file format: modules, optimisers and a header in one safetensors file. Every parameter and buffer of
/// each part ("vae.…", "kernel_generator.…"), its Adam moments ("optim.vae.&lt;param&gt;.exp_avg" / ".exp_avg_sq") and
/// in the metadata the format, the completed epoch count, each optimiser's step count, the image geometry and the
/// options as JSON. Parameter names follow PyTorch's module naming ("vae.encoder.0.weight"), so a PyTorch mirror of
/// the architecture loads them with load_state_dict. It knows the engine's modules and optimisers, nothing of the run
/// (which builds the parts: Train/TrainingCheckpoint.cs), so the run depends on the format and never the other way.
/// </summary>
public static class CheckpointFile
{
    public const string Format = "blurvae-checkpoint-1";
    public const string FileName = "checkpoint.safetensors";

    /// <summary>Writes the parts after <paramref name="epoch"/> completed epochs.</summary>
    public static void Save(string path, IReadOnlyList<CheckpointPart> parts, int epoch, CheckpointHeader header)
    {
        var tensors = new List<(string, Tensor)>();
        foreach (var part in parts)
            tensors.AddRange(part.Module.NamedParameters(part.Name + ".").Concat(part.Module.NamedBuffers(part.Name + ".")));
        foreach (var part in parts)
            AddOptimizer(tensors, part.Optimizer, part.Module.NamedParameters(), $"optim.{part.Name}.");
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var part in parts)
            metadata[$"optim.{part.Name}.step"] = part.Optimizer.StepCount.ToString(CultureInfo.InvariantCulture);
        metadata["channels"] = header.Channels.ToString(CultureInfo.InvariantCulture);
        metadata["side"] = header.Side.ToString(CultureInfo.InvariantCulture);
        metadata["options"] = header.OptionsJson;
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

    /// <summary>The header alone, to rebuild the modules the checkpoint's tensors go into.</summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        var (_, meta) = SafeTensors.Read(path);
        if (!meta.TryGetValue("format", out var format) || format != Format)
            throw new InvalidDataException($"Checkpoint '{path}' is not a BlurVae training checkpoint (metadata 'format' is '{format ?? "missing"}', expected '{Format}').");
        string options = Require(meta, "options", path);
        return new CheckpointHeader(ParseInt(meta, "channels", path), ParseInt(meta, "side", path), options);
    }

    /// <summary>Restores every tensor and optimiser state into parts built from the header; returns the completed epochs.</summary>
    public static int Load(string path, IReadOnlyList<CheckpointPart> parts)
    {
        var (tensors, meta) = SafeTensors.Read(path);
        foreach (var part in parts)
            NamedTensors.Restore(part.Module.NamedParameters(part.Name + ".").Concat(part.Module.NamedBuffers(part.Name + ".")), tensors,
                $"Checkpoint '{path}'", "was it written by a different architecture?");
        foreach (var part in parts)
            RestoreOptimizer(part.Optimizer, part.Module.NamedParameters(), $"optim.{part.Name}.", ParseInt(meta, $"optim.{part.Name}.step", path));
        return ParseInt(meta, "epoch", path);

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

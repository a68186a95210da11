using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace BlurVae.LibTorchBench;

/// <summary>
/// --check FILE: the port's arithmetic against the PyTorch reference (reference/pytorch/libtorch_check.py writes FILE
/// and compares). FILE (safetensors, F32) holds the batch "x", the noise "eps" and every parameter under BlurVae's
/// checkpoint names ("vae.encoder.0.weight", "kernel_generator.hidden.bias", …: the module names of models.py). The
/// model gets those weights, then --steps alternating steps run on x and eps, each reporting its reconstruction, KL and
/// kernel-fit values: the first step checks the forward pass and losses, the later ones the gradients and Adam.
/// </summary>
public static class CheckRun
{
    public static JsonObject Run(BenchArguments a, string file)
    {
        torch.set_num_threads(a.Threads);
        torch.set_num_interop_threads(1);
        var tensors = ReadSafeTensors(file);
        Tensor Take(string name) => tensors.TryGetValue(name, out var t) ? t : throw new ArgumentException($"{file} has no tensor '{name}'");
        var vae = Vae.Build(a.Arch, a.ImageChannels, a.Side, a.Latent, a.Channels, a.MlpHidden);
        var gen = new KernelGenerator(a.Latent, a.Kernel);
        using (torch.no_grad())
        {
            foreach (var (prefix, module) in new (string, nn.Module)[] { ("vae.", vae), ("kernel_generator.", gen) })
                foreach (var (name, p) in module.named_parameters())
                {
                    var value = Take(prefix + name);
                    if (!value.shape.SequenceEqual(p.shape))
                        throw new ArgumentException($"{file}: '{prefix + name}' is [{string.Join(", ", value.shape)}], the model's [{string.Join(", ", p.shape)}]");
                    p.copy_(value);
                }
        }
        var step = new TrainingStep(vae, gen, new Losses(a.Side, a.Side, ScalarType.Float32), a.Loss == "wiener");
        var x = Take("x");
        var eps = Take("eps");
        var rows = new JsonArray();
        for (int i = 0; i < a.Steps; i++)
        {
            var (rec, kl, fit) = step.Run(x, eps, read: true);
            rows.Add(new JsonObject { ["rec"] = rec, ["kl"] = kl, ["fit"] = fit });
        }
        return new JsonObject { ["engine"] = "libtorch", ["torch"] = torch.__version__, ["steps"] = rows };
    }

    /// <summary>The F32 tensors of a safetensors file by name (the format: an 8-byte header length, a JSON header, raw data).</summary>
    private static Dictionary<string, Tensor> ReadSafeTensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        var header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))!.AsObject();
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            if (node!["dtype"]!.GetValue<string>() != "F32") throw new ArgumentException($"{path}: '{name}' is not F32");
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var values = new float[(offsets[1] - offsets[0]) / 4];
            Buffer.BlockCopy(bytes, (int)(8 + headerLength + offsets[0]), values, 0, values.Length * 4);
            result[name] = torch.tensor(values).reshape(shape).DetachFromDisposeScope();
        }
        return result;
    }
}


namespace BlurVae.Training.Io;

/// <summary>Copies tensors read from a safetensors file into a module's named tensors, checking names and shapes.</summary>
public static class NamedTensors
{
    /// <param name="source">How messages name the file, e.g. "--classifier 'c.safetensors'".</param>
    /// <param name="fix">What a missing tensor means and how to get a right file.</param>
    public static void Restore(IEnumerable<(string Name, Tensor Value)> targets, IReadOnlyDictionary<string, SafeTensors.Entry> stored, string source, string fix)
    {
        foreach (var (name, t) in targets)
        {
            if (!stored.TryGetValue(name, out var e))
                throw new InvalidDataException($"{source} has no tensor '{name}'; {fix}");
            if (!e.Shape.AsSpan().SequenceEqual(t.Shape))
                throw new InvalidDataException($"{source}: tensor '{name}' has shape {Tensor.ShapeString(e.Shape)}, the model expects {Tensor.ShapeString(t.Shape)}.");
            t.Backend.Upload(t.Buffer, e.Values);
        }
    }
}

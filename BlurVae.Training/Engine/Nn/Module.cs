
namespace BlurVae.Training.Engine.Nn;

/// <summary>
/// A layer or network: named parameters (leaves with RequiresGrad), named buffers (state such as running
/// statistics, not trained), child modules, and a training/evaluation mode that propagates to the children.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Value)> _parameters = [];
    private readonly List<(string Name, Tensor Value)> _buffers = [];
    private readonly List<(string Name, Module Value)> _children = [];

    public bool Training { get; private set; } = true;

    public abstract Tensor Forward(Tensor x);

    protected Tensor RegisterParameter(string name, Tensor value)
    {
        value.RequiresGrad = true;
        value.Name = name;
        _parameters.Add((name, value));
        return value;
    }

    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        value.Name = name;
        _buffers.Add((name, value));
        return value;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        _children.Add((name, module));
        return module;
    }

    /// <summary>Parameters of this module and its children, with dotted names ("encoder.0.weight").</summary>
    public IEnumerable<(string Name, Tensor Value)> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in _parameters) yield return (prefix + name, p);
        foreach (var (name, child) in _children)
            foreach (var item in child.NamedParameters(prefix + name + "."))
                yield return item;
    }

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Value);

    /// <summary>This module and every descendant, depth first.</summary>
    public IEnumerable<Module> Modules()
    {
        yield return this;
        foreach (var (_, child) in _children)
            foreach (var m in child.Modules())
                yield return m;
    }

    public IEnumerable<(string Name, Tensor Value)> NamedBuffers(string prefix = "")
    {
        foreach (var (name, b) in _buffers) yield return (prefix + name, b);
        foreach (var (name, child) in _children)
            foreach (var item in child.NamedBuffers(prefix + name + "."))
                yield return item;
    }

    public void Train(bool training = true)
    {
        Training = training;
        foreach (var (_, child) in _children) child.Train(training);
    }

    public void Eval() => Train(false);

    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>Number of trainable scalars.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Length);
}

/// <summary>PyTorch's default initialisation (kaiming_uniform with a = √5, i.e. U(±1/√fan_in)).</summary>
internal static class Init
{
    public static Tensor Uniform(int[] shape, int fanIn, Random rng, DType dtype, IBackend? backend)
    {
        double bound = fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0.0;
        return Tensor.Uniform(shape, -bound, bound, rng, dtype, backend);
    }
}

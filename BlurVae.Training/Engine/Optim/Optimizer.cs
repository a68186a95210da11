
namespace BlurVae.Training.Engine.Optim;

/// <summary>
/// Updates one parameter group. The method alternates two groups (VAE θ,φ and kernel generator γ), each with its
/// own optimiser; a step touches only its own group's parameters, whatever gradients the other group holds.
/// </summary>
public abstract class Optimizer
{
    /// <summary>Every optimiser has a learning rate (≥ 0; the run may change it between steps) and L2 weight decay.</summary>
    protected Optimizer(IEnumerable<Tensor> parameters, double lr, double weightDecay)
    {
        if (lr < 0) throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be >= 0");
        LearningRate = lr;
        WeightDecay = weightDecay;
        Parameters = parameters.ToArray();
        if (Parameters.Count == 0) throw new ArgumentException("An optimiser needs at least one parameter.", nameof(parameters));
        foreach (var p in Parameters)
            if (!p.IsLeaf || !p.RequiresGrad)
                throw new ArgumentException($"{p} is not a leaf that requires a gradient, so it cannot be optimised.", nameof(parameters));
    }

    public IReadOnlyList<Tensor> Parameters { get; }

    public double LearningRate { get; set; }

    /// <summary>L2 weight decay, added to the gradient (PyTorch's weight_decay).</summary>
    public double WeightDecay { get; }

    /// <summary>Steps taken so far.</summary>
    public int StepCount { get; protected set; }

    public void ZeroGrad()
    {
        // By index: a foreach over the IReadOnlyList would box an enumerator every step.
        for (int i = 0; i < Parameters.Count; i++) Parameters[i].ZeroGrad();
    }

    /// <summary>Applies one update from the current gradients; parameters without a gradient are left unchanged.</summary>
    public abstract void Step();

    /// <summary>Sets the step counter when a checkpoint is restored.</summary>
    public void RestoreStepCount(int steps) => StepCount = steps >= 0 ? steps : throw new ArgumentOutOfRangeException(nameof(steps));

    /// <summary>
    /// Moves the step counters by <paramref name="steps"/> without updating anything: for steps whose device work ran
    /// without this host code (a replayed CUDA graph advances the device's own count), or, negative, to take back the
    /// counting of a step whose work never ran (an abandoned capture).
    /// </summary>
    public virtual void AdvanceStepCount(int steps) => StepCount += steps;
}

/// <summary>torch.optim.Adam (amsgrad off, L2 weight decay added to the gradient).</summary>
public sealed class Adam : Optimizer
{
    private readonly Dictionary<Tensor, (Tensor M, Tensor V, int Steps)> _state = new(ReferenceEqualityComparer.Instance);

    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base(parameters, lr, weightDecay)
    {
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1)");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1)");
        if (eps < 0) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be >= 0");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }

    /// <summary>First and second moment of a parameter (null before its first update); for checkpoints.</summary>
    public (Tensor M, Tensor V, int Steps)? StateOf(Tensor p) => _state.TryGetValue(p, out var s) ? s : null;

    public void SetState(Tensor p, Tensor m, Tensor v, int steps) => _state[p] = (m, v, steps);

    // The group's lists, refilled every step (four arrays and their LINQ iterators per step otherwise).
    private readonly List<Tensor> _stepped = [];
    private readonly List<BackendBuffer> _params = [], _grads = [], _ms = [], _vs = [];

    public override void Step()
    {
        StepCount++;
        var stepped = _stepped;
        stepped.Clear();
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.Grad is null) continue;
            if (!_state.TryGetValue(p, out var s)) s = (p.ZerosLike(), p.ZerosLike(), 0);
            s.Steps++;
            _state[p] = s;
            stepped.Add(p);
        }
        if (stepped.Count == 0) return;
        // The usual case, every parameter of one backend at the same step: one group update (a single multi-tensor
        // launch on a device, one parallel loop on the CPU); otherwise tensor by tensor, each at its own step count.
        int steps = _state[stepped[0]].Steps;
        var backend = stepped[0].Backend;
        bool together = true;
        foreach (var p in stepped) together &= _state[p].Steps == steps && ReferenceEquals(p.Backend, backend);
        if (together)
        {
            _params.Clear();
            _grads.Clear();
            _ms.Clear();
            _vs.Clear();
            foreach (var p in stepped)
            {
                var s = _state[p];
                _params.Add(p.Buffer);
                _grads.Add(p.Grad!.Buffer);
                _ms.Add(s.M.Buffer);
                _vs.Add(s.V.Buffer);
            }
            backend.AdamStepGroup(_params, _grads, _ms, _vs, Hyper(steps));
            _params.Clear();
            _grads.Clear();
            _ms.Clear();
            _vs.Clear();
            stepped.Clear();
            return;
        }
        foreach (var p in stepped)
        {
            var s = _state[p];
            p.Backend.AdamStep(p.Buffer, p.Grad!.Buffer, s.M.Buffer, s.V.Buffer, Hyper(s.Steps));
        }
        stepped.Clear();
    }

    private AdamStepParameters Hyper(int step) => new(LearningRate, Beta1, Beta2, Eps, WeightDecay, step);

    /// <summary>Also each parameter's count, which the bias corrections use (a count of 0 is a parameter not yet stepped).</summary>
    public override void AdvanceStepCount(int steps)
    {
        base.AdvanceStepCount(steps);
        foreach (var p in _state.Keys.ToList())
        {
            var s = _state[p];
            _state[p] = s with { Steps = Math.Max(0, s.Steps + steps) };
        }
    }
}

/// <summary>torch.optim.SGD with momentum and dampening (no Nesterov).</summary>
public sealed class Sgd : Optimizer
{
    private readonly Dictionary<Tensor, Tensor> _momentum = new(ReferenceEqualityComparer.Instance);

    public Sgd(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0)
        : base(parameters, lr, weightDecay)
    {
        if (momentum < 0) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be >= 0");
        Momentum = momentum;
        Dampening = dampening;
    }

    public double Momentum { get; }
    public double Dampening { get; }

    public override void Step()
    {
        StepCount++;
        foreach (var p in Parameters)
        {
            if (p.Grad is null) continue;
            Tensor? buf = null;
            bool first = false;
            if (Momentum != 0 && !_momentum.TryGetValue(p, out buf))
            {
                buf = p.ZerosLike();
                _momentum[p] = buf;
                first = true;
            }
            p.Backend.SgdStep(p.Buffer, p.Grad.Buffer, buf?.Buffer, LearningRate, Momentum, Dampening, WeightDecay, first);
        }
    }
}

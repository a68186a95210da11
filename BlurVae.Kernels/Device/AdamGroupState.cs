namespace BlurVae.Kernels.Device;

/// <summary>
/// What the device keeps for one optimiser's multi-tensor Adam: the step count of its last step, which
/// adam_multi_tensor_kernel advances, uploaded only when the host's count is not the device's next one (the first
/// step, a restored checkpoint, or the first eager step after replays of a CUDA graph, which advanced the device's
/// count without this object). The tensors' addresses travel in the launches' parameters
/// (<see cref="TensorList.Adam"/>), so the gradients may come back from the cache at new addresses every step without
/// any upload or host wait.
/// </summary>
internal sealed class AdamGroupState : IDisposable
{
    private readonly GpuDevice _device;
    private readonly DeviceMemory _state;
    private int _deviceStep = -1;

    public AdamGroupState(GpuDevice device, int tensors)
    {
        _device = device;
        Tensors = tensors;
        _state = device.Allocate(1);
    }

    public int Tensors { get; }

    public void Step(IReadOnlyList<DeviceMemory> param, IReadOnlyList<DeviceMemory> grad, IReadOnlyList<DeviceMemory> m, IReadOnlyList<DeviceMemory> v, AdamStepParameters p)
    {
        if (p.Step < 1 || p.Step > 1 << 24) throw new ArgumentOutOfRangeException(nameof(p), p.Step, "the device counts Adam steps from 1 to 2^24 (exact in a float)");
        if (p.Step != _deviceStep + 1) _device.Upload(_state, [p.Step - 1]);
        _device.AdamMultiTensor(_state, param, grad, m, v, p);
        _deviceStep = p.Step;
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    // The state lives as long as its group's first parameter (DeviceBackend's weak table), then goes with the GC.
    ~AdamGroupState() => _state.ReleaseFromFinalizer();
}

namespace BlurVae.Kernels.Device;

/// <summary>
/// What the device keeps for one optimiser's multi-tensor Adam (adam_multi_tensor_kernel): the table of parameter,
/// gradient and moment addresses with the tensors' offsets, and the step state (count, step size, bias correction)
/// that adam_step_count_kernel advances. The table is uploaded again only when an address changed, and the count
/// only when the host's count is not the device's next one (the first step, a restored checkpoint). Gradients are
/// fresh tensors each step and, since the autograd returns buffers to the cache as soon as backward is done with
/// them, the cache hands them out at different addresses from step to step (no period either): today the table is
/// re-uploaded every step, one synchronous upload per optimiser. Passing the addresses as kernel parameters (as
/// PyTorch's multi_tensor_apply does) or keeping gradient buffers at stable addresses would remove it.
/// </summary>
internal sealed class AdamGroupTable : IDisposable
{
    private readonly GpuDevice _device;
    private readonly DeviceMemory _table, _state;
    private readonly ulong[] _uploaded;
    private int _deviceStep = -1;

    public AdamGroupTable(GpuDevice device, int tensors)
    {
        _device = device;
        Tensors = tensors;
        _uploaded = new ulong[5 * tensors + 1];
        _table = device.Allocate(2 * _uploaded.Length);
        _state = device.Allocate(3);
    }

    public int Tensors { get; }

    public void Step(IReadOnlyList<DeviceMemory> param, IReadOnlyList<DeviceMemory> grad, IReadOnlyList<DeviceMemory> m, IReadOnlyList<DeviceMemory> v, AdamStepParameters p)
    {
        if (p.Step < 1 || p.Step > 1 << 24) throw new ArgumentOutOfRangeException(nameof(p), p.Step, "the device counts Adam steps from 1 to 2^24 (exact in a float)");
        int t = Tensors;
        var entries = new ulong[_uploaded.Length];
        long total = 0;
        for (int i = 0; i < t; i++)
        {
            entries[i] = param[i].Pointer;
            entries[t + i] = grad[i].Pointer;
            entries[2 * t + i] = m[i].Pointer;
            entries[3 * t + i] = v[i].Pointer;
            entries[4 * t + i] = (ulong)total;
            total += param[i].Length;
        }
        entries[5 * t] = (ulong)total;
        if (total > int.MaxValue) throw new ArgumentException($"The group has {total} parameters; at most int.MaxValue per launch.", nameof(param));
        if (!entries.AsSpan().SequenceEqual(_uploaded))
        {
            _device.Upload(_table, MemoryMarshal.Cast<ulong, float>(entries));
            entries.CopyTo(_uploaded, 0);
        }
        if (p.Step != _deviceStep + 1) _device.Upload(_state, [p.Step - 1, 0f, 0f]);
        _device.AdamMultiTensor(_table, _state, t, (int)total, p);
        _deviceStep = p.Step;
    }

    public void Dispose()
    {
        _table.Dispose();
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    // The table lives as long as its group's first parameter (DeviceBackend's weak table), then goes with the GC.
    ~AdamGroupTable()
    {
        _table.ReleaseFromFinalizer();
        _state.ReleaseFromFinalizer();
    }
}

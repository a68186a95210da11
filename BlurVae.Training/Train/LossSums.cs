
namespace BlurVae.Training.Train;

/// <summary>
/// Running sums of a step's loss values, kept on the trainer's backend: adding one step's values is one device op
/// (AxpbyGroup, every sum in one launch), not a read, so a step never waits for the device; <see cref="Take"/> reads
/// them once per logging interval (an epoch) and starts over.
/// </summary>
internal sealed class LossSums(IBackend backend, DType dtype, int count)
{
    private Tensor[]? _sums;
    private BackendBuffer[] _sumBuffers = [];

    /// <summary>Steps added since the last <see cref="Take"/>.</summary>
    public int Steps { get; private set; }

    /// <summary>Adds one step's values (one-element tensors, in a fixed order) to the sums.</summary>
    public void Add(ReadOnlySpan<Tensor> values)
    {
        if (values.Length != count) throw new ArgumentException($"{values.Length} loss values, expected {count}.", nameof(values));
        if (_sums is null)
        {
            _sums = new Tensor[count];
            for (int i = 0; i < count; i++) _sums[i] = Tensor.Zeros([1], dtype, backend).Keep();
            _sumBuffers = [.. _sums.Select(s => s.Buffer)];
        }
        var addends = new BackendBuffer[count];
        for (int i = 0; i < count; i++) addends[i] = values[i].Buffer;
        backend.AxpbyGroup(_sumBuffers, 1.0, addends, 1.0);
        Steps++;
    }

    /// <summary>Counts <paramref name="steps"/> more steps whose values a replayed CUDA graph added (or, negative, takes back ones that never ran).</summary>
    public void AdvanceSteps(int steps) => Steps += steps;

    /// <summary>Sum <paramref name="index"/> so far, without starting over: a host read, which only a live progress display
    /// makes (at most once a second).</summary>
    public double Peek(int index) => _sums is null ? 0 : _sums[index].Item();

    /// <summary>The sums since the last call (the host reads them here, once), and the number of steps they cover; then zero.</summary>
    public (double[] Sums, int Steps) Take()
    {
        var sums = new double[count];
        int steps = Steps;
        if (_sums is not null)
            for (int i = 0; i < count; i++)
            {
                sums[i] = _sums[i].Item();
                backend.Fill(_sums[i].Buffer, 0);
            }
        Steps = 0;
        return (sums, steps);
    }
}

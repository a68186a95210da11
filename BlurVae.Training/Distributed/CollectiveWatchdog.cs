using System.Diagnostics;

namespace BlurVae.Training.Distributed;

/// <summary>
/// Bounds every blocking collective: a background thread watches the one in progress and, when it has waited longer
/// than the timeout (--collective-timeout), calls <c>expire</c> with a description, which reports and aborts the job.
/// Without it a rank that died or hangs would leave the others waiting forever inside MPI or NCCL.
/// </summary>
public sealed class CollectiveWatchdog : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly Action<string> _expire;
    private readonly Thread _thread;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _deadlineTicks = long.MaxValue;
    private string _what = "";
    private volatile bool _stopped;

    public CollectiveWatchdog(TimeSpan timeout, Action<string> expire)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentException($"--collective-timeout must be positive (got {timeout.TotalSeconds} s).");
        _timeout = timeout;
        _expire = expire;
        _thread = new Thread(Watch) { IsBackground = true, Name = "collective watchdog" };
        _thread.Start();
    }

    public TimeSpan Timeout => _timeout;

    /// <summary>Arms the watchdog for one collective; disposing the scope disarms it.</summary>
    public Scope Guard(string what)
    {
        _what = what;
        Interlocked.Exchange(ref _deadlineTicks, (_clock.Elapsed + _timeout).Ticks);
        return new Scope(this);
    }

    public readonly struct Scope(CollectiveWatchdog owner) : IDisposable
    {
        public void Dispose() => Interlocked.Exchange(ref owner._deadlineTicks, long.MaxValue);
    }

    private void Watch()
    {
        // Checking ten times per timeout (at most every half second) keeps the overshoot small and the thread idle.
        var period = TimeSpan.FromTicks(Math.Min(_timeout.Ticks / 10, TimeSpan.FromMilliseconds(500).Ticks));
        while (!_stopped)
        {
            Thread.Sleep(period);
            if (_clock.Elapsed.Ticks <= Interlocked.Read(ref _deadlineTicks)) continue;
            _expire($"{_what} did not complete within {_timeout.TotalSeconds:0.###} s");
            return;
        }
    }

    public void Dispose() => _stopped = true;
}

namespace BlurVae.Kernels.Device;

// The ticket counters of one-launch two-level reductions (block_is_last_arrival in kernels/common.cuh): split-K
// convolutions and sum_to draw one ticket per output tile or block column, and the last block of each finishes.
public abstract partial class GpuDevice
{
    private ulong _ticketCounters;
    private int _ticketCounterCount;
    private readonly Lock _ticketCountersLock = new();

    /// <summary>
    /// At least <paramref name="count"/> zeroed ticket counters: device workspace kept for the device's life, outside
    /// the tensors' accounting (<see cref="LiveAllocations"/>). The kernels return every counter they use to 0 and
    /// launches on the stream run one after another, so every launch may use the same counters: they are zero-filled
    /// once, when first needed or grown (a memset then, none in a steady step), and keep their address (graph capture).
    /// </summary>
    protected internal LaunchArg TicketCounters(int count)
    {
        lock (_ticketCountersLock)
        {
            if (_ticketCounterCount < count)
            {
                FreeTicketCounters();
                int length = Math.Max(count, 4096);
                _ticketCounters = AllocateBytes(BytesOf(length));
                Memset(_ticketCounters, 0, length);
                _ticketCounterCount = length;
            }
            return LaunchArg.Pointer(_ticketCounters);
        }
    }

    private void FreeTicketCounters()
    {
        if (_ticketCounterCount == 0) return;
        FreeBytes(_ticketCounters, BytesOf(_ticketCounterCount));
        _ticketCounters = 0;
        _ticketCounterCount = 0;
    }

    /// <summary>Returns the ticket counters (device disposal).</summary>
    private void ReleaseTicketCounters()
    {
        lock (_ticketCountersLock) FreeTicketCounters();
    }
}

namespace BlurVae.Kernels.Device;

/// <summary>
/// The pinned host buffers uploads are staged in (a caching host allocator, as PyTorch's for pin_memory): an upload
/// copies the caller's span into a block, queues the asynchronous copy from it and records the block's fence; a
/// block is handed out again only once its fence says the copy has read it, else a new block is made. So an upload
/// never waits for the device, and the caller may reuse its span at once. Sizes are rounded up to a power of two
/// (at least 4 KiB), so the blocks of a run's few upload sizes (the batch, the noise, a step count) are reused
/// step after step. The device supplies the memory and the fences (<see cref="GpuDevice"/>'s staging members): page-
/// locked memory and events on a GPU; a pinned managed array and no fence where copies are synchronous.
/// </summary>
internal sealed unsafe class StagingPool(GpuDevice device) : IDisposable
{
    public sealed class Block
    {
        public required nint Host { get; init; }
        public required long Bytes { get; init; }
        public object? Fence { get; set; }
        public bool Taken { get; set; }
    }

    private const long MinimumBytes = 4096;

    private readonly Dictionary<long, List<Block>> _blocks = new();
    private readonly Lock _lock = new();

    /// <summary>Blocks made so far (each a real pinned allocation).</summary>
    public int BlockCount { get; private set; }

    /// <summary>A block of at least <paramref name="bytes"/> that no queued copy still reads.</summary>
    public Block Take(long bytes)
    {
        long rounded = Math.Max(MinimumBytes, (long)BitOperations.RoundUpToPowerOf2((ulong)bytes));
        lock (_lock)
        {
            if (!_blocks.TryGetValue(rounded, out var list)) _blocks[rounded] = list = [];
            foreach (var block in list)
                if (!block.Taken && (block.Fence is null || device.StagingFenceComplete(block.Fence)))
                {
                    block.Taken = true;
                    return block;
                }
            var made = new Block { Host = device.AllocateStaging(rounded), Bytes = rounded, Taken = true };
            list.Add(made);
            BlockCount++;
            return made;
        }
    }

    /// <summary>Gives the block back after its copy was queued: its fence is recorded behind that copy.</summary>
    public void Return(Block block)
    {
        lock (_lock)
        {
            block.Fence ??= device.CreateStagingFence();
            if (block.Fence is not null) device.RecordStagingFence(block.Fence);
            block.Taken = false;
        }
    }

    /// <summary>Frees every block; the device has finished its copies (it synchronised before).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var block in _blocks.Values.SelectMany(l => l))
            {
                device.FreeStaging(block.Host, block.Bytes);
                if (block.Fence is IDisposable fence) fence.Dispose();
            }
            _blocks.Clear();
        }
    }
}

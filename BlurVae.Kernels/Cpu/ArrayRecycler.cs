namespace BlurVae.Kernels.Cpu;

/// <summary>
/// Recycles the arrays of large CPU buffers: at once when the autograd releases their buffer
/// (<see cref="BackendBuffer.Release"/>), otherwise once the garbage collector has found the buffer unreachable.
/// <para>
/// Why: a training step allocates and drops ~100 MB of activations and gradients, all of them large-object-heap
/// arrays. Fresh large arrays come from memory the GC has handed back to the OS, and on a virtual machine the page
/// faults of touching it again cost more than the arithmetic of the step. Reusing the arrays keeps the memory hot.
/// </para>
/// <para>
/// How: a pooled buffer holds its array through a small finalizable <see cref="Lease"/>; when the buffer (and so
/// its lease) dies, the finalizer puts the array back here, and the next buffer of the same length takes it,
/// cleared for Allocate and as it is for AllocateUninitialized. The pool is per allocating thread, so an op can never lose an input
/// array to a concurrent allocation on another thread: an array returns only to the pool of the thread that
/// allocated it, and that thread is busy running the op. Dead buffers are found only by a collection, so when the
/// arrays newly allocated since the last full collection exceed a budget, one is requested.
/// </para>
/// </summary>
internal sealed class ArrayRecycler
{
    /// <summary>
    /// Arrays with fewer elements than this come from the GC directly. Not only the large ones are recycled: when only
    /// arrays of ≥ 16K elements were, the small buffers (batch-norm statistics, the deep layers' activations, G_γ's and
    /// the loss's tensors) were ~0.4 MB of garbage per fashion32 step (BlurVae.Bench phases --alloc).
    /// </summary>
    public const int MinLength = 64;

    /// <summary>Most bytes one pool keeps idle; beyond it returned arrays are left to the GC.</summary>
    private const long MaxIdleBytes = 1L << 30;

    /// <summary>Fresh bytes rented since the last collection that trigger a collection of the young generations.</summary>
    private const long CollectAfterBytes = 64L << 20;

    [ThreadStatic] private static ArrayRecycler? _current;

    private readonly Dictionary<(Type, int), Stack<Array>> _idle = new();
    private long _idleBytes;
    private long _freshBytes;
    private int _lastGcCount;

    private static long _freshTotal;

    public static ArrayRecycler Current => _current ??= new ArrayRecycler();

    /// <summary>Bytes of fresh (not recycled) large arrays rented so far, all threads: first-touched memory, which steady-state steps should not need.</summary>
    public static long FreshBytesTotal => Interlocked.Read(ref _freshTotal);

    /// <summary>An array of the given length, recycled when one is idle; zero-filled, or left as it was when not <paramref name="zeroed"/>.</summary>
    public T[] Rent<T>(int length, bool zeroed, out Lease? lease) where T : unmanaged
    {
        if (length < MinLength)
        {
            lease = null;
            return zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        }
        long bytes = (long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        T[]? array = null;
        lock (_idle)
        {
            if (_idle.TryGetValue((typeof(T), length), out var stack) && stack.Count > 0)
            {
                array = (T[])stack.Pop();
                _idleBytes -= bytes;
            }
        }
        if (array is not null)
        {
            if (zeroed) Array.Clear(array);
        }
        else
        {
            int gcs = GC.CollectionCount(2);
            if (gcs != _lastGcCount)
            {
                _lastGcCount = gcs;
                _freshBytes = 0;
            }
            _freshBytes += bytes;
            Interlocked.Add(ref _freshTotal, bytes);
            if (_freshBytes > CollectAfterBytes)
            {
                // The dead buffers of the last steps wait for a collection to be found, and buffers that lived
                // through a young collection sit in the old generation; ask for a full (non-compacting: the
                // arrays hold no references, so marking is cheap) collection instead of growing the heap.
                // Their arrays come back as their finalizers run.
                _freshBytes = 0;
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
                _lastGcCount = GC.CollectionCount(2);
            }
            array = zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        }
        lease = new Lease(this, array);
        return array;
    }

    private void Return(Array array)
    {
        long bytes = (long)array.Length * (array is float[] ? sizeof(float) : sizeof(double));
        lock (_idle)
        {
            if (_idleBytes + bytes > MaxIdleBytes) return;
            var key = (array.GetType().GetElementType()!, array.Length);
            if (!_idle.TryGetValue(key, out var stack)) _idle[key] = stack = new Stack<Array>();
            stack.Push(array);
            _idleBytes += bytes;
        }
    }

    /// <summary>Owns a pooled array for as long as its buffer lives; gives the array back when collected.</summary>
    internal sealed class Lease(ArrayRecycler owner, Array array)
    {
        private int _returned;

        /// <summary>Returns the array at once (a deterministic release); the finalizer then has nothing to do.</summary>
        public void ReturnNow()
        {
            if (Interlocked.Exchange(ref _returned, 1) != 0) return;
            GC.SuppressFinalize(this);
            owner.Return(array);
        }

        ~Lease()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0) owner.Return(array);
        }
    }
}

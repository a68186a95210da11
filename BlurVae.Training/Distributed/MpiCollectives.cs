using System.Diagnostics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Numerics;
using BlurVae.Native;
using BlurVae.Training.Engine.Distributed;

namespace BlurVae.Training.Distributed;

/// <summary>
/// The collectives on MPI (Open MPI through <see cref="Mpi"/>): each bucket is staged in host memory (a download of
/// every tensor into one array, MPI_Allreduce or MPI_Bcast in place, an upload back), so the same code serves the CPU
/// backend and the device backends (the emulated device in CI; a GPU without NCCL). Every blocking call runs under
/// the <see cref="CollectiveWatchdog"/>, which reports and calls MPI_Abort when another rank died or hangs.
/// </summary>
public sealed unsafe class MpiCollectives : ICollectives
{
    private readonly Mpi.HandleSet _mpi;
    private readonly CollectiveWatchdog _watchdog;
    private readonly TextWriter _error;
    private readonly Stopwatch _busy = new();
    private long _calls;
    private float[] _floats = [];
    private double[] _doubles = [];

    private MpiCollectives(Mpi.HandleSet mpi, int rank, int worldSize, TimeSpan timeout, TextWriter error)
    {
        _mpi = mpi;
        Rank = rank;
        WorldSize = worldSize;
        _error = error;
        _watchdog = new CollectiveWatchdog(timeout, Expire);
    }

    public int Rank { get; }
    public int WorldSize { get; }
    public string Name => "MPI";

    /// <summary>MPI_Init_thread (once per process), errors returned instead of aborting, and this process's rank and world size.</summary>
    public static MpiCollectives Initialize(TimeSpan timeout, TextWriter error)
    {
        var mpi = Mpi.Handles;
        int initialized, provided, rank, size;
        Mpi.Check(Mpi.MPI_Initialized(&initialized), "MPI_Initialized");
        if (initialized == 0) Mpi.Check(Mpi.MPI_Init_thread(null, null, Mpi.ThreadMultiple, &provided), "MPI_Init_thread");
        Mpi.Check(Mpi.MPI_Comm_set_errhandler(mpi.CommWorld, mpi.ErrorsReturn), "MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)");
        Mpi.Check(Mpi.MPI_Comm_rank(mpi.CommWorld, &rank), "MPI_Comm_rank");
        Mpi.Check(Mpi.MPI_Comm_size(mpi.CommWorld, &size), "MPI_Comm_size");
        return new MpiCollectives(mpi, rank, size, timeout, error);
    }

    public void AllReduce(IReadOnlyList<Tensor> tensors, bool average)
    {
        foreach (var bucket in TensorBuckets.Split(tensors))
            Staged(bucket, "MPI_Allreduce", average, (p, count, type) => Mpi.MPI_Allreduce(Mpi.InPlace, p, count, type, _mpi.Sum, _mpi.CommWorld));
    }

    public void Broadcast(IReadOnlyList<Tensor> tensors, int root = 0)
    {
        foreach (var bucket in TensorBuckets.Split(tensors))
            Staged(bucket, "MPI_Bcast", false, (p, count, type) => Mpi.MPI_Bcast(p, count, type, root, _mpi.CommWorld));
    }

    public void AllReduceSum(Span<double> values)
    {
        fixed (double* p = values)
        {
            var pointer = p;
            int count = values.Length;
            Blocking("MPI_Allreduce", () => Mpi.MPI_Allreduce(Mpi.InPlace, pointer, count, _mpi.Double, _mpi.Sum, _mpi.CommWorld));
        }
    }

    public void Barrier() => Blocking("MPI_Barrier", () => Mpi.MPI_Barrier(_mpi.CommWorld));

    public double TakeSeconds()
    {
        double s = _busy.Elapsed.TotalSeconds;
        _busy.Reset();
        return s;
    }

    private delegate int Collective(void* buffer, int count, nint datatype);

    /// <summary>Stages one bucket (one dtype) in a host array, runs the collective on it, scales by 1/N if asked, and copies back.</summary>
    private void Staged(IReadOnlyList<Tensor> bucket, string call, bool average, Collective collective)
    {
        _busy.Start();
        try
        {
            if (bucket[0].DType == DType.Float64)
                Staged(bucket, ref _doubles, _mpi.Double, call, average, collective, (t, s) => t.Backend.Download(t.Buffer, s), (t, s) => t.Backend.Upload(t.Buffer, s));
            else
                Staged(bucket, ref _floats, _mpi.Float, call, average, collective, (t, s) => t.Backend.Download(t.Buffer, s), (t, s) => t.Backend.Upload(t.Buffer, s));
        }
        finally
        {
            _busy.Stop();
        }
    }

    private delegate void Download<T>(Tensor t, Span<T> destination);
    private delegate void Upload<T>(Tensor t, ReadOnlySpan<T> source);

    /// <summary>The bucket's tensors one after another in <paramref name="pool"/> (grown as needed, kept for the next step).</summary>
    private void Staged<T>(IReadOnlyList<Tensor> bucket, ref T[] pool, nint datatype, string call, bool average, Collective collective,
        Download<T> download, Upload<T> upload) where T : unmanaged, INumberBase<T>
    {
        int total = checked(bucket.Sum(t => t.Length));
        if (pool.Length < total) pool = new T[total];
        var host = pool.AsSpan(0, total);
        int offset = 0;
        foreach (var t in bucket)
        {
            download(t, host.Slice(offset, t.Length));
            offset += t.Length;
        }
        fixed (T* p = host)
        {
            var q = p;
            Blocking(call, () => collective(q, total, datatype));
        }
        if (average) TensorPrimitives.Multiply<T>(host, T.One / T.CreateChecked(WorldSize), host);
        offset = 0;
        foreach (var t in bucket)
        {
            upload(t, host.Slice(offset, t.Length));
            offset += t.Length;
        }
    }

    /// <summary>Rank <paramref name="root"/>'s bytes to every rank (NCCL's unique id).</summary>
    public void BroadcastBytes(Span<byte> bytes, int root)
    {
        fixed (byte* p = bytes)
        {
            var q = p;
            int count = bytes.Length;
            Blocking("MPI_Bcast", () => Mpi.MPI_Bcast(q, count, _mpi.Byte, root, _mpi.CommWorld));
        }
    }

    /// <summary>One blocking MPI call under the watchdog, its status checked.</summary>
    private void Blocking(string call, Func<int> action)
    {
        int status = 0;
        Watched(call, () => status = action());
        Mpi.Check(status, call);
    }

    /// <summary>Any blocking wait on the other ranks (also NCCL's stream synchronisation) under the watchdog.</summary>
    public void Watched(string what, Action wait)
    {
        long n = Interlocked.Increment(ref _calls);
        using (_watchdog.Guard($"{what} (collective #{n})"))
            wait();
    }

    /// <summary>The watchdog's verdict: name the ranks that could be at fault, then take the whole job down.</summary>
    private void Expire(string what)
    {
        var others = Enumerable.Range(0, WorldSize).Where(r => r != Rank).ToArray();
        string suspects = others.Length == 1 ? $"rank {others[0]}" : $"one of ranks {string.Join(", ", others)}";
        _error.WriteLine($"blurvae: rank {Rank} of {WorldSize}: {what} (--collective-timeout): {suspects} died or hangs. " +
                         "Aborting the job; the last complete checkpoint in --out is intact, continue with --resume.");
        _error.Flush();
        Mpi.MPI_Abort(_mpi.CommWorld, 1);
        // MPI_Abort does not return; should it, exit non-zero anyway so that the launcher ends the other ranks.
        Environment.Exit(1);
    }

    /// <summary>MPI_Finalize after a run that ended normally on every rank.</summary>
    public void Dispose()
    {
        _watchdog.Dispose();
        int finalized;
        Mpi.Check(Mpi.MPI_Finalized(&finalized), "MPI_Finalized");
        if (finalized == 0) Mpi.Check(Mpi.MPI_Finalize(), "MPI_Finalize");
    }
}

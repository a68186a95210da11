using System.Diagnostics;
using BlurVae.Kernels.Cuda;
using BlurVae.Kernels.Device;
using BlurVae.Native;
using BlurVae.Training.Engine.Distributed;

namespace BlurVae.Training.Distributed;

/// <summary>
/// The collectives of the CUDA backend on NCCL: tensors stay in device memory and each bucket is one NCCL group of
/// in-place ncclAllReduce (ncclAvg for the gradient mean) or ncclBroadcast calls enqueued on the device's own stream,
/// so they are ordered after the backward kernels that produced the gradients. MPI does the rest: launch, rank, the
/// rendezvous (rank 0's ncclUniqueId broadcast over MPI) and the host values. The stream is synchronised under the
/// MPI watchdog, so a dead or hung rank ends the job within --collective-timeout here too.
/// </summary>
public sealed unsafe class NcclCollectives : ICollectives
{
    private readonly MpiCollectives _mpi;
    private readonly CudaDevice _device;
    private readonly nint _comm;
    private readonly Stopwatch _busy = new();

    private NcclCollectives(MpiCollectives mpi, CudaDevice device, nint comm)
    {
        _mpi = mpi;
        _device = device;
        _comm = comm;
    }

    public int Rank => _mpi.Rank;
    public int WorldSize => _mpi.WorldSize;
    public string Name => "NCCL";

    /// <summary>ncclCommInitRank over MPI_COMM_WORLD's ranks, with the unique id rank 0 made and broadcast.</summary>
    public static NcclCollectives Create(MpiCollectives mpi, CudaBackend backend)
    {
        var device = (CudaDevice)backend.Device;
        device.Context.MakeCurrent();
        Nccl.UniqueId id = default;
        if (mpi.Rank == 0) Nccl.Check(Nccl.ncclGetUniqueId(&id), "ncclGetUniqueId");
        mpi.BroadcastBytes(new Span<byte>(&id, Nccl.UniqueId.Bytes), root: 0);
        var shared = id;
        nint comm = 0;
        mpi.Watched("ncclCommInitRank", () =>
        {
            nint c;
            Nccl.Check(Nccl.ncclCommInitRank(&c, mpi.WorldSize, shared, mpi.Rank), "ncclCommInitRank");
            comm = c;
        });
        return new NcclCollectives(mpi, device, comm);
    }

    public void AllReduce(IReadOnlyList<Tensor> tensors, bool average) =>
        Grouped(tensors, "ncclAllReduce", t => Nccl.Check(Nccl.ncclAllReduce(PointerOf(t), PointerOf(t), (nuint)t.Length, Nccl.Float32,
            average ? Nccl.Avg : Nccl.Sum, _comm, _device.StreamHandle), "ncclAllReduce"));

    public void Broadcast(IReadOnlyList<Tensor> tensors, int root = 0) =>
        Grouped(tensors, "ncclBroadcast", t => Nccl.Check(Nccl.ncclBroadcast(PointerOf(t), PointerOf(t), (nuint)t.Length, Nccl.Float32,
            root, _comm, _device.StreamHandle), "ncclBroadcast"));

    public void AllReduceSum(Span<double> values) => _mpi.AllReduceSum(values);

    public void Barrier() => _mpi.Barrier();

    public double TakeSeconds()
    {
        double s = _busy.Elapsed.TotalSeconds + _mpi.TakeSeconds();
        _busy.Reset();
        return s;
    }

    private static ulong PointerOf(Tensor t) =>
        t.Buffer is DeviceBuffer d ? d.Memory.Pointer : throw new ArgumentException($"NCCL needs device tensors; {t} is on {t.Backend.Name}.");

    /// <summary>One NCCL group per bucket, then a stream synchronisation under the watchdog.</summary>
    private void Grouped(IReadOnlyList<Tensor> tensors, string call, Action<Tensor> enqueue)
    {
        _busy.Start();
        try
        {
            foreach (var bucket in TensorBuckets.Split(tensors))
            {
                Nccl.Check(Nccl.ncclGroupStart(), "ncclGroupStart");
                foreach (var t in bucket) enqueue(t);
                Nccl.Check(Nccl.ncclGroupEnd(), "ncclGroupEnd");
            }
            _mpi.Watched(call, _device.Synchronize);
        }
        finally
        {
            _busy.Stop();
        }
    }

    public void Dispose()
    {
        Nccl.Check(Nccl.ncclCommDestroy(_comm), "ncclCommDestroy");
        _mpi.Dispose();
    }
}

using BlurVae.Kernels.Cuda;
using BlurVae.Native;
using BlurVae.Training.Engine.Distributed;
using BlurVae.Training.Engine.Nn;

namespace BlurVae.Training.Distributed;

/// <summary>
/// A data-parallel run as PyTorch DDP runs it: one process per rank (launched by mpirun), identical initial
/// parameters and buffers (broadcast from rank 0), each rank a disjoint, equal shard of every global batch drawn
/// from the same seeded shuffle, gradients averaged before every optimiser step (the trainer's collectives, which <see cref="Attach"/> returns),
/// and batch-norm statistics per rank unless --sync-bn. The transport is NCCL when the trainer runs on a GPU (CUDA
/// backend) and NCCL loads, else MPI.
/// </summary>
public sealed class DataParallel : IDisposable
{
    private readonly MpiCollectives _mpi;
    private readonly DistributedOptions _options;

    private DataParallel(MpiCollectives mpi, DistributedOptions options)
    {
        _mpi = mpi;
        _options = options;
        Collectives = mpi;
    }

    public int Rank => _mpi.Rank;
    public int WorldSize => _mpi.WorldSize;
    public bool IsRoot => Rank == 0;
    public DistributedOptions Options => _options;

    /// <summary>MPI for now; NCCL once <see cref="Attach"/> has seen a CUDA trainer.</summary>
    public ICollectives Collectives { get; private set; }

    /// <summary>Open MPI's rank among the processes of this machine: picks the GPU (one per process).</summary>
    public static int LocalRank =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_RANK"), out int r) && r >= 0 ? r : 0;

    /// <summary>The default --threads of a rank: this machine's cores divided among its ranks (OMPI_COMM_WORLD_LOCAL_SIZE), at least one.</summary>
    public static int DefaultThreads =>
        Math.Max(1, Environment.ProcessorCount / Math.Max(1, int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out int n) ? n : 1));

    /// <summary>Joins the MPI job. The GPU this rank will use is its <see cref="LocalRank"/>, which the caller hands to
    /// the backend selection (this layer is below the run and does not choose backends).</summary>
    public static DataParallel Start(DistributedOptions options, TextWriter error)
    {
        options.Validate();
        MpiCollectives mpi;
        try
        {
            mpi = MpiCollectives.Initialize(TimeSpan.FromSeconds(options.CollectiveTimeoutSeconds), error);
        }
        catch (DllNotFoundException e)
        {
            throw new NotSupportedException($"--distributed needs Open MPI: {e.Message}");
        }
        return new DataParallel(mpi, options);
    }

    /// <summary>The images of each rank's shard: the global batch split evenly.</summary>
    public int PerRankBatch(int globalBatch)
    {
        if (globalBatch % WorldSize != 0)
            throw new ArgumentException($"--batch-size {globalBatch} is the global batch; it must be a multiple of the {WorldSize} ranks (e.g. {globalBatch / WorldSize * WorldSize} or {(globalBatch / WorldSize + 1) * WorldSize}).");
        return globalBatch / WorldSize;
    }

    /// <summary>
    /// Connects the networks of a trainer on <paramref name="backend"/> with a global batch of <paramref name="globalBatch"/>:
    /// the transport for the backend, rank 0's parameters and buffers everywhere, and --sync-bn. Returns the collectives
    /// the trainer averages its gradients through. The networks come as modules, so this layer needs nothing of the run.
    /// </summary>
    public ICollectives Attach(IBackend backend, IReadOnlyList<Module> networks, int globalBatch, TextWriter log)
    {
        if (backend is CudaBackend cuda && Collectives is MpiCollectives)
        {
            // Every rank must choose the same transport: all of them load NCCL, or all of them learn that one could not.
            bool loaded = NativeLibraries.TryLoad(NativeLibraries.Nccl, out _, out var where);
            Span<double> missing = [loaded ? 0 : 1];
            _mpi.AllReduceSum(missing);
            if (missing[0] == 0) Collectives = NcclCollectives.Create(_mpi, cuda);
            else log.WriteLine($"data parallel: NCCL is not usable on {missing[0]:0} rank(s){(loaded ? "" : $" ({where})")}; the gradients go through host memory over MPI.");
        }
        Collectives.Broadcast(StateOf(networks));
        foreach (var bn in networks.SelectMany(m => m.Modules()).OfType<BatchNorm>())
            bn.Sync = _options.SyncBn ? Collectives : null;
        int perRank = PerRankBatch(globalBatch);
        log.WriteLine($"data parallel: {WorldSize} ranks over {Collectives.Name}, global batch {globalBatch} = {WorldSize} × {perRank} per rank, " +
                      $"batch-norm statistics {(_options.SyncBn ? "of the global batch (--sync-bn)" : "per rank")}, --collective-timeout {_options.CollectiveTimeoutSeconds:0.###} s");
        return Collectives;
    }

    /// <summary>Every parameter and buffer (running statistics) of the networks, network by network, in a fixed order.</summary>
    public static List<Tensor> StateOf(IEnumerable<Module> networks) =>
        networks.SelectMany(m => m.Parameters().Concat(m.NamedBuffers().Select(b => b.Value))).ToList();

    /// <summary>Rank 0's buffers everywhere (DDP's broadcast_buffers): per-rank batch-norm statistics drift apart.</summary>
    public void SyncBuffers(IEnumerable<Module> networks) =>
        Collectives.Broadcast(networks.SelectMany(m => m.NamedBuffers()).Select(b => b.Value).ToList());

    /// <summary>
    /// This rank's shard of every full global batch of an epoch: the same seeded permutation on every rank, global batch
    /// b is order[b·B, (b+1)·B), and rank r takes its r-th slice of B/N images. With one rank these are exactly
    /// ImageDataset.Batches(B, shuffle, dropLast).
    /// </summary>
    public static IEnumerable<(Tensor Images, int First)> Shards(Data.ImageDataset data, int globalBatch, int rank, int ranks, int seed, int epoch, DType dtype, IBackend backend)
    {
        var order = data.EpochOrder(seed, epoch, shuffle: true);
        int per = globalBatch / ranks;
        for (int b = 0; b < data.Count / globalBatch; b++)
        {
            int first = b * globalBatch + rank * per;
            yield return (data.GetBatch(order.AsSpan(first, per).ToArray(), dtype, backend), rank * per);
        }
    }

    /// <summary>Finalises MPI after a run that ended normally (a failed rank exits without it, and mpirun ends the rest).</summary>
    public void Dispose() => Collectives.Dispose();
}

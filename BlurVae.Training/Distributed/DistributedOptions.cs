namespace BlurVae.Training.Distributed;

/// <summary>
/// How a run is spread over processes (the flags --distributed, --sync-bn, --collective-timeout). Not part of the
/// run's saved options: a checkpoint does not depend on the rank count, so a run resumes on any number of ranks.
/// </summary>
public sealed record DistributedOptions
{
    /// <summary>Join the MPI job this process was launched in (mpirun -np N blurvae train … --distributed).</summary>
    public bool Enabled { get; init; }

    /// <summary>Batch normalisation with the global batch's statistics (else each rank's own, as PyTorch DDP).</summary>
    public bool SyncBn { get; init; }

    /// <summary>Seconds a collective may wait for the other ranks before the job is aborted naming the suspects.</summary>
    public double CollectiveTimeoutSeconds { get; init; } = 300;

    public void Validate()
    {
        if (!(CollectiveTimeoutSeconds > 0) || !double.IsFinite(CollectiveTimeoutSeconds))
            throw new ArgumentException($"--collective-timeout must be a positive number of seconds (got {CollectiveTimeoutSeconds}).");
        if (SyncBn && !Enabled)
            throw new ArgumentException("--sync-bn synchronises batch normalisation across the ranks of a data-parallel run; add --distributed (and launch with mpirun).");
    }
}

using BlurVae.Training.Distributed;
using BlurVae.Training.Engine.Distributed;
using static BlurVae.Tests.GradCheck.GradChecker;

namespace BlurVae.Tests.Distributed;

/// <summary>The parts of data-parallel training that need no MPI job: buckets, the synchronised batch norm's maths, names and flags.</summary>
[TestFixture, Category("Distributed")]
public class CollectivesTests
{
    [Test]
    public void BucketsKeepOrderAndDtypeAndStayUnderTheCap()
    {
        var tensors = new[] { 10, 300, 5, 1000, 7, 7 }.Select((n, i) => Tensor.Zeros([n], i == 4 ? DType.Float64 : DType.Float32)).ToArray();
        var buckets = TensorBuckets.Split(tensors, capBytes: 1300 * 4).ToList();
        Assert.That(buckets.SelectMany(b => b), Is.EquivalentTo(tensors));
        Assert.That(buckets.All(b => b.Select(t => t.DType).Distinct().Count() == 1));
        // 10 + 300 + 5 floats fit; 1000 more would pass 1300, so it starts a bucket, which the last 7 floats join.
        Assert.That(buckets.Select(b => b.Sum(t => t.Length)), Is.EqualTo(new[] { 315, 1007, 7 }));
        var huge = TensorBuckets.Split([Tensor.Zeros([2000])], capBytes: 1024).ToList();
        Assert.That(huge, Has.Count.EqualTo(1), "a tensor over the cap is a bucket of its own");
    }

    [Test]
    public void SyncBatchNormOfOneRankIsBatchNorm()
    {
        var x = Randn(1, 3, 5, 3, 4);
        var (gamma, beta) = (Positive(2, 5), Randn(3, 5));
        var (rm1, rv1, rm2, rv2) = (Randn(4, 5), Positive(5, 5), Randn(4, 5), Positive(5, 5));
        var expected = Functional.BatchNorm(x, rm1, rv1, gamma, beta, training: true);
        var actual = SyncBatchNorm.Forward(x, gamma, beta, rm2, rv2, 0.1, 1e-5, SingleProcess.Instance);
        Assert.That(actual.ToDoubleArray(), Is.EqualTo(expected.ToDoubleArray()).Within(1e-12));
        Assert.That(rm2.ToDoubleArray(), Is.EqualTo(rm1.ToDoubleArray()).Within(1e-12), "running mean");
        Assert.That(rv2.ToDoubleArray(), Is.EqualTo(rv1.ToDoubleArray()).Within(1e-12), "running variance (unbiased)");
    }

    [Test]
    public void SyncBatchNormGradientsMatchFiniteDifferences()
    {
        var (rm, rv) = (Randn(6, 5), Positive(7, 5));
        AssertGradients(x => SyncBatchNorm.Forward(x[0], x[1], x[2], rm, rv, 0.1, 1e-5, SingleProcess.Instance),
            Randn(8, 3, 5, 3, 2), Positive(9, 5), Randn(10, 5));
    }

    [Test]
    public void AllReduceOfOneRankIsTheIdentityBothWays() =>
        AssertGradients(x => AllReduceFunction.Forward(x[0], SingleProcess.Instance).Square(), Randn(11, 4, 3));

    [Test]
    public void MpiAndNcclAreFoundLikeTheCudaLibraries()
    {
        Assert.That(NativeLibraries.CandidatesFor(NativeLibraries.Mpi), Is.EqualTo(new[] { "libmpi.so.40" }));
        Assert.That(NativeLibraries.CandidatesFor(NativeLibraries.Nccl), Does.Contain("libnccl.so.2"));
        Assert.That(Nccl.StatusName(5), Is.EqualTo("ncclInvalidUsage"));
        Assert.That(Nccl.StatusName(42), Is.EqualTo("ncclResult_t 42"));
    }

    [Test]
    public void OpenMpiHandlesAreTheAddressesOfItsGlobals()
    {
        if (!NativeLibraries.TryLoad(NativeLibraries.Mpi, out _, out var message))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(message);
            Assert.Ignore(message);
        }
        var h = Mpi.Handles;
        Assert.That(new[] { h.CommWorld, h.Float, h.Double, h.Byte, h.Sum, h.ErrorsReturn }, Has.All.Not.EqualTo((nint)0));
        Assert.That(new[] { h.CommWorld, h.Float, h.Double, h.Byte, h.Sum, h.ErrorsReturn }, Is.Unique);
    }

    [Test]
    public void DistributedFlagsAreCheckedByName()
    {
        Assert.That(() => new DistributedOptions { SyncBn = true }.Validate(), Throws.ArgumentException.With.Message.Contains("--sync-bn").And.Message.Contains("--distributed"));
        Assert.That(() => new DistributedOptions { Enabled = true, CollectiveTimeoutSeconds = 0 }.Validate(), Throws.ArgumentException.With.Message.Contains("--collective-timeout"));
        var (code, _, err) = Cli.CliRunner.Invoke("train", "--sync-bn", "--out", Path.Combine(Path.GetTempPath(), "blurvae-never-written"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("--sync-bn"));
    }
}

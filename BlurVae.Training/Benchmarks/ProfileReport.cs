using System.Globalization;
using System.Text.Json.Nodes;
using BlurVae.Kernels;
using BlurVae.Kernels.Device;

namespace BlurVae.Training.Benchmarks;

/// <summary>
/// What `blurvae profile` prints and writes: the per-step structure of the last measured step (every measured step
/// is kept in the JSON, with whether they agree), launches by kernel, the launches with fewer than two waves of
/// blocks on the target GPU, and a roofline lower bound of the step's time there, labelled as the estimate it is.
/// Every launch gets its own estimate (<see cref="EstimateMicroseconds"/>, at the convolutions' <paramref name="precision"/>);
/// a launch of at least <see cref="LongLaunchMicroseconds"/> is "long", and a long launch should fill two waves or
/// split K (<see cref="LongUnderTwoWavesLaunches"/>, the structure target of docs/gpu-step.md).
/// </summary>
public sealed class ProfileReport(string name, string description, GpuSpec gpu, int warmup, IReadOnlyList<ProfiledStep> steps,
                                  MathPrecision precision = MathPrecision.Tf32)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public string Name { get; } = name;
    public string Description { get; } = description;
    public GpuSpec Gpu { get; } = gpu;
    public int Warmup { get; } = warmup;
    public IReadOnlyList<ProfiledStep> Steps { get; } = steps;
    public MathPrecision Precision { get; } = precision;

    /// <summary>
    /// Where a launch stops being "a few microseconds": a kernel launch costs ≈ 2–4 µs of issue and ramp on a GPU
    /// whatever its grid, so a launch whose roofline estimate is under this is bound by that overhead, not by how many
    /// SMs its grid fills, and a wider grid would not shorten it.
    /// </summary>
    public const double LongLaunchMicroseconds = 5.0;

    /// <summary>The roofline estimate of one operation on the target GPU, in µs (a lower bound; FLOPs at the precision's peak).</summary>
    public double EstimateMicroseconds(StreamRecord r) => r.RooflineSeconds(Gpu, Precision == MathPrecision.Tf32) * 1e6;

    /// <summary>Long launches (≥ <see cref="LongLaunchMicroseconds"/>) under two waves that do not split K: the ones the target forbids.</summary>
    public IReadOnlyList<StreamRecord> LongUnderTwoWavesLaunches =>
        Step.Records.Where(r => UnderTwoWaves(r) && r.Splits == 1 && EstimateMicroseconds(r) >= LongLaunchMicroseconds).ToList();

    /// <summary>The last measured step: after the most warm-up, so the steady state.</summary>
    public ProfiledStep Step => Steps[^1];

    public DeviceCounts Counts => Step.Counts;

    /// <summary>Whether every measured step had the same counts (it should: a step's work does not depend on the data).</summary>
    public bool Stable => Steps.All(s => Same(s.Counts, Counts));

    private static bool Same(DeviceCounts a, DeviceCounts b) =>
        a.StreamOperations == b.StreamOperations && a.Launches == b.Launches && a.CublasCalls == b.CublasCalls && a.CufftCalls == b.CufftCalls &&
        a.Memsets == b.Memsets && a.Copies == b.Copies && a.HostSyncs == b.HostSyncs && a.Allocations == b.Allocations &&
        a.GraphLaunches == b.GraphLaunches && a.GraphOperations == b.GraphOperations &&
        a.LaunchesByKernel.Count == b.LaunchesByKernel.Count && a.LaunchesByKernel.All(kv => b.LaunchesByKernel.GetValueOrDefault(kv.Key) == kv.Value);

    /// <summary>The step's operations grouped by name, most frequent first.</summary>
    public IReadOnlyList<OperationSummary> ByName =>
        Step.Records.GroupBy(r => (r.Kind, r.Name))
            .Select(g => new OperationSummary(g.Key.Kind, g.Key.Name, g.Count(),
                g.Min(r => r.Blocks), g.Max(r => r.Blocks), g.Max(r => r.ThreadsPerBlock), g.Sum(r => r.Flops), g.Sum(r => r.Bytes),
                g.Count(r => UnderTwoWaves(r))))
            .OrderByDescending(s => s.Count).ThenBy(s => s.Name, StringComparer.Ordinal).ToList();

    /// <summary>Kernel launches with fewer blocks than two waves of the target's SMs.</summary>
    public IReadOnlyList<StreamRecord> UnderTwoWavesLaunches => Step.Records.Where(UnderTwoWaves).ToList();

    private bool UnderTwoWaves(StreamRecord r) => r.Kind == StreamOpKind.Launch && r.Blocks < Gpu.TwoWaves;

    public double Flops => Step.Records.Sum(r => r.Flops);
    public double Bytes => Step.Records.Sum(r => r.Bytes);

    /// <summary>Σ over operations of max(FLOPs / peak, bytes / bandwidth), in ms: no launch overhead, perfect overlap inside each operation.</summary>
    public double RooflineMs(bool tensorCores) => Step.Records.Sum(r => r.RooflineSeconds(Gpu, tensorCores)) * 1e3;

    public const string EstimateLabel =
        "an estimate, not a measurement: a lower bound from the datasheet peaks, each operation at max(FLOPs/peak, bytes/bandwidth), " +
        "launch overheads and host syncs ignored; FLOPs counted for convolutions, cuBLAS and cuFFT, bytes as every buffer a kernel is given read or written once";

    public void WriteText(TextWriter o)
    {
        var c = Counts;
        o.WriteLine($"profile {Name} ({Description}) on the recording device, target {Gpu.Name} ({Gpu.Sms} SMs)");
        o.WriteLine($"{Warmup} warm-up + {Steps.Count} measured step(s) of the full alternating step; per step{(Stable ? "" : " (the measured steps differ; the last is shown, every one is in the JSON)")}:");
        o.WriteLine($"  stream operations {c.StreamOperations,7}");
        o.WriteLine($"    launches        {c.Launches,7}   ({c.LaunchesByKernel.Count} kernels)");
        o.WriteLine($"    cuBLAS calls    {c.CublasCalls,7}");
        o.WriteLine($"    cuFFT calls     {c.CufftCalls,7}");
        o.WriteLine($"    memsets         {c.Memsets,7}");
        o.WriteLine($"    copies          {c.Copies,7}   (device→device {c.CopiesDeviceToDevice}, host→device {c.CopiesHostToDevice}, device→host {c.CopiesDeviceToHost})");
        if (c.GraphLaunches > 0)
            o.WriteLine($"  graph launches    {c.GraphLaunches,7}   ({c.GraphOperations} operations inside, not in the stream operations above)");
        o.WriteLine($"  host syncs        {c.HostSyncs,7}");
        o.WriteLine($"  allocations       {c.Allocations,7}   (real cuMemAlloc; {c.BufferRequests} buffers requested, the rest from the cache)");
        o.WriteLine();
        o.WriteLine($"operations by name: count, blocks per launch (min–max), threads per block, GFLOP, MB, launches under {Gpu.TwoWaves} blocks");
        foreach (var s in ByName)
        {
            string blocks = s.Kind == StreamOpKind.Launch ? (s.BlocksMin == s.BlocksMax ? $"{s.BlocksMin}" : $"{s.BlocksMin}–{s.BlocksMax}") : "–";
            string threads = s.Kind == StreamOpKind.Launch ? s.ThreadsPerBlock.ToString(Inv) : "–";
            o.WriteLine(string.Create(Inv, $"  {s.Name,-40} {s.Count,5}  {blocks,13}  {threads,5}  {s.Flops / 1e9,9:F3}  {s.Bytes / 1e6,9:F1}  {(s.Kind == StreamOpKind.Launch ? s.UnderTwoWaves.ToString(Inv) : "–"),4}"));
        }
        var few = UnderTwoWavesLaunches;
        o.WriteLine();
        var longFew = LongUnderTwoWavesLaunches;
        o.WriteLine($"launches under two waves (< {Gpu.TwoWaves} blocks on {Gpu.Sms} SMs): {few.Count} of {c.Launches}; " +
                    string.Create(Inv, $"of them estimated at ≥ {LongLaunchMicroseconds} µs ({Precision.Name()}) and not split-K: {longFew.Count}"));
        foreach (var r in few.OrderByDescending(EstimateMicroseconds).Take(15))
            o.WriteLine(string.Create(Inv, $"  {r.Name,-40} grid {r.Grid.X}×{r.Grid.Y}×{r.Grid.Z} block {r.Block.X}×{r.Block.Y}×{r.Block.Z}: {r.Blocks} blocks{(r.Splits > 1 ? $" (split-K {r.Splits})" : "")}, {r.Flops / 1e9:F3} GFLOP, {r.Bytes / 1e6:F1} MB, ≈ {EstimateMicroseconds(r):F1} µs"));
        if (few.Count > 15) o.WriteLine($"  … {few.Count - 15} more (all in the JSON, with every operation of the step in order)");
        o.WriteLine();
        o.WriteLine(string.Create(Inv, $"roofline lower bound on {Gpu.Name}: {RooflineMs(true):F3} ms per step with TF32 tensor cores ({Gpu.Tf32TensorTflops} TFLOP/s), {RooflineMs(false):F3} ms in FP32 SIMT ({Gpu.Fp32Tflops} TFLOP/s), {Gpu.MemoryTBps} TB/s; {Flops / 1e9:F2} GFLOP, {Bytes / 1e9:F3} GB"));
        o.WriteLine($"  ({EstimateLabel})");
        o.WriteLine($"  figures: {Gpu.Source}");
    }

    public JsonObject ToJson()
    {
        var c = Counts;
        var json = CountsJson(c);
        json["config"] = Name;
        json["description"] = Description;
        json["device"] = "recording";
        json["gpu"] = new JsonObject
        {
            ["key"] = Gpu.Key, ["name"] = Gpu.Name, ["sms"] = Gpu.Sms, ["fp32_tflops"] = Gpu.Fp32Tflops,
            ["tf32_tensor_tflops"] = Gpu.Tf32TensorTflops, ["memory_tbps"] = Gpu.MemoryTBps, ["source"] = Gpu.Source,
        };
        json["warmup"] = Warmup;
        json["steps"] = Steps.Count;
        json["stable"] = Stable;
        json["host_ms_per_step"] = Step.HostMs;
        json["precision"] = Precision.Name();
        json["launches_under_two_waves"] = UnderTwoWavesLaunches.Count;
        json["long_launch_us"] = LongLaunchMicroseconds;
        json["long_launches_under_two_waves"] = LongUnderTwoWavesLaunches.Count;
        json["operations"] = new JsonArray(ByName.Select(s => (JsonNode)new JsonObject
        {
            ["name"] = s.Name, ["kind"] = s.Kind.ToString().ToLowerInvariant(), ["count"] = s.Count,
            ["blocks_min"] = s.BlocksMin, ["blocks_max"] = s.BlocksMax, ["threads_per_block"] = s.ThreadsPerBlock,
            ["flops"] = s.Flops, ["bytes"] = s.Bytes, ["under_two_waves"] = s.UnderTwoWaves,
        }).ToArray());
        json["under_two_waves"] = new JsonArray(UnderTwoWavesLaunches.Select(RecordJson).ToArray());
        json["records"] = new JsonArray(Step.Records.Select(RecordJson).ToArray());
        json["roofline"] = new JsonObject
        {
            ["estimate"] = true, ["label"] = EstimateLabel, ["tf32_tensor_ms"] = RooflineMs(true), ["fp32_simt_ms"] = RooflineMs(false),
            ["flops"] = Flops, ["bytes"] = Bytes, ["source"] = Gpu.Source,
        };
        json["per_step"] = new JsonArray(Steps.Select(s => (JsonNode)CountsJson(s.Counts)).ToArray());
        return json;
    }

    private JsonNode RecordJson(StreamRecord r) => new JsonObject
    {
        ["name"] = r.Name, ["kind"] = r.Kind.ToString().ToLowerInvariant(), ["grid"] = new JsonArray(r.Grid.X, r.Grid.Y, r.Grid.Z),
        ["block"] = new JsonArray(r.Block.X, r.Block.Y, r.Block.Z), ["blocks"] = r.Blocks, ["splits"] = r.Splits,
        ["flops"] = r.Flops, ["bytes"] = r.Bytes, ["estimate_us"] = EstimateMicroseconds(r),
    };

    private static JsonObject CountsJson(DeviceCounts c)
    {
        var byKernel = new JsonObject();
        foreach (var (kernel, n) in c.LaunchesByKernel.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)) byKernel[kernel] = n;
        return new JsonObject
        {
            ["stream_operations"] = c.StreamOperations, ["launches"] = c.Launches, ["cublas_calls"] = c.CublasCalls, ["cufft_calls"] = c.CufftCalls,
            ["memsets"] = c.Memsets, ["copies"] = c.Copies, ["copies_device_to_device"] = c.CopiesDeviceToDevice,
            ["copies_host_to_device"] = c.CopiesHostToDevice, ["copies_device_to_host"] = c.CopiesDeviceToHost,
            ["host_syncs"] = c.HostSyncs, ["allocations"] = c.Allocations, ["buffer_requests"] = c.BufferRequests,
            ["graph_launches"] = c.GraphLaunches, ["graph_operations"] = c.GraphOperations,
            ["launches_by_kernel"] = byKernel,
        };
    }

    public void WriteJson(string path) => Io.AtomicFile.WriteAllText(path, ToJson().ToJsonString(BenchReport.JsonOptions) + "\n");
}

/// <summary>The operations of one name in a step: how many, their blocks, threads per block, FLOPs and bytes, and how many launched under two waves.</summary>
public sealed record OperationSummary(StreamOpKind Kind, string Name, int Count, long BlocksMin, long BlocksMax, long ThreadsPerBlock,
                                      double Flops, double Bytes, int UnderTwoWaves);

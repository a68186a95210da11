using System.Diagnostics.Tracing;

namespace BlurVae.Bench;

/// <summary>
/// Which types a stretch of code allocates, sampled from the runtime's GCAllocationTick event (one event per ~100 KB
/// allocated on a thread, naming the type whose allocation crossed the mark): over many steps the counts are
/// proportional to the bytes each type takes, which is what `phases --alloc` lists to find what a step allocates; and
/// the methods the JIT compiles meanwhile (MethodJittingStarted), by name and count.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1, JitKeyword = (EventKeywords)0x10;
    private readonly Dictionary<string, long> _bytes = new();
    private bool _on;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword | JitKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_on || e.EventName is not { } name || e.Payload is null) return;
        if (name.StartsWith("MethodJittingStarted", StringComparison.Ordinal))
        {
            string m = "JIT " + e.Payload[e.PayloadNames!.IndexOf("MethodNamespace")] + "::" + e.Payload[e.PayloadNames.IndexOf("MethodName")];
            lock (_bytes) _bytes[m] = _bytes.GetValueOrDefault(m) + 1;
            return;
        }
        if (!name.StartsWith("GCAllocationTick", StringComparison.Ordinal)) return;
        int typeAt = e.PayloadNames!.IndexOf("TypeName"), amountAt = e.PayloadNames.IndexOf("AllocationAmount64");
        string type = typeAt >= 0 ? e.Payload[typeAt] as string ?? "?" : "?";
        long amount = amountAt >= 0 ? Convert.ToInt64(e.Payload[amountAt]) : 100_000;
        lock (_bytes) _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
    }

    public void Start() => _on = true;

    public void Stop() => _on = false;

    /// <summary>The entries with the largest figures: sampled bytes per type, compile counts per "JIT " method.</summary>
    public IEnumerable<(string Type, long Bytes)> Top(int count)
    {
        lock (_bytes) return _bytes.OrderByDescending(kv => kv.Value).Take(count).Select(kv => (kv.Key, kv.Value)).ToList();
    }
}

using System.Globalization;

namespace BlurVae.Training.Errors;

/// <summary>
/// Refuses allocations that cannot succeed before any work starts, so an oversized flag ends with a message giving the
/// bytes needed and available instead of an OverflowException mid-run or the OOM killer (which can take other jobs on
/// a shared machine with it). Sizes are computed in double so that no product can overflow on the way.
/// </summary>
public static class MemoryBudget
{
    /// <summary>The memory this process may use: the GC's limit (container or machine), overridable for tests.</summary>
    public static long AvailableBytes => Override ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Tests set this to check refusals without allocating; null means the real limit.</summary>
    internal static long? Override { get; set; }

    /// <summary>Throws a UserError naming <paramref name="what"/> and <paramref name="fix"/> when <paramref name="bytes"/> exceeds what is available.</summary>
    public static void Require(double bytes, string what, string fix)
    {
        long available = AvailableBytes;
        if (bytes <= available) return;
        throw new UserError(string.Create(CultureInfo.InvariantCulture,
            $"{what} needs about {Format(bytes)} of memory but only {Format(available)} is available; {fix}"));
    }

    /// <summary>
    /// Throws a UserError when one array of <paramref name="elements"/> (of <paramref name="elementBytes"/> each) would
    /// exceed .NET's array length limit, whatever the memory.
    /// </summary>
    public static void RequireArray(double elements, int elementBytes, string what, string fix)
    {
        if (elements <= Array.MaxLength) return;
        throw new UserError(string.Create(CultureInfo.InvariantCulture,
            $"{what} needs one array of {elements:G4} elements ({Format(elements * elementBytes)}; {Format(AvailableBytes)} of memory is available), more than the {Array.MaxLength:N0} a .NET array can hold; {fix}"));
    }

    public static string Format(double bytes) =>
        bytes >= 1L << 30 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 30):F1} GiB")
        : bytes >= 1L << 20 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 20):F1} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes:F0} bytes");
}

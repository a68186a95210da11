
namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // Copies are exact; Fill converts the double to float32 on the candidate (one rounding of the value).
    private static readonly Tolerance CopyTol = new(0, 0), FillTol = new(0, 1e-7);

    /// <summary>An uninitialised buffer has its length and holds what is then uploaded into it.</summary>
    private static void AllocateUninitialized(ParityHarness h, int n, string sizes)
    {
        const string op = "memory.allocate_uninitialized (then uploaded)";
        var values = h.Uniform(n);
        BackendBuffer? dst = null;
        try
        {
            dst = h.Candidate.AllocateUninitialized(DType.Float32, n);
            if (dst.Length != n) throw new InvalidOperationException($"the buffer has {dst.Length} elements, not {n}");
            h.Candidate.Upload(dst, values);
            var read = new double[n];
            h.Candidate.Download(dst, read);
            var expected = values.Select(v => (double)(float)v).ToArray();
            h.Record(op, sizes, [new Comparison("buffer", expected, read, CopyTol)]);
        }
        catch (Exception e)
        {
            h.Record(op, sizes, [], $"{h.Candidate.Name} threw {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            dst?.Dispose();
        }
    }

    /// <summary>Allocate (zero-filled), Copy and Fill: the memory ops every other check relies on.</summary>
    private static void Memory(ParityHarness h)
    {
        foreach (int n in Lengths(h))
        {
            string sizes = $"n={n}";
            var zeros = h.Candidate.Allocate(DType.Float32, n);
            try
            {
                var values = new double[n];
                h.Candidate.Download(zeros, values);
                h.Record("memory.allocate (zero-filled)", sizes, [new Comparison("buffer", new double[n], values, CopyTol)]);
            }
            catch (Exception e)
            {
                h.Record("memory.allocate (zero-filled)", sizes, [], $"{h.Candidate.Name} threw {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                zeros.Dispose();
            }
            AllocateUninitialized(h, n, sizes);
            h.Check("memory.copy", sizes, [Out("dst", Garbage(h, n), CopyTol), In("src", h.Uniform(n))],
                (b, o) => b.Copy(o["dst"], o["src"]));
            h.Check("memory.fill", sizes + " value=0.3", [Out("dst", Garbage(h, n), FillTol)],
                (b, o) => b.Fill(o["dst"], 0.3));
        }
    }
}

namespace BlurVae.Training.Data;

/// <summary>
/// SplitMix64: a tiny seeded generator whose output is fixed by this code alone, so a shuffle or a patch
/// position for a given (seed, stream) is the same on every machine and .NET version (System.Random's seeded
/// algorithm is an implementation detail). Bit-exact resume depends on that.
/// </summary>
internal struct DataRng
{
    private ulong _state;

    /// <param name="seed">The user's seed.</param>
    /// <param name="stream">Separates independent uses of one seed (the epoch, the split, the patch sampler).</param>
    public DataRng(long seed, long stream)
    {
        _state = Mix(unchecked((ulong)seed) ^ Mix(unchecked((ulong)stream) + 0x632BE59BD9B4E019UL));
    }

    // Stream tags, one per use, so e.g. the split and epoch 0 of the same seed are unrelated.
    // Epochs use the non-negative streams 0, 1, 2, ...; these sit far below them.
    public const long SplitStream = long.MinValue + 1;
    public const long PatchStream = long.MinValue + 2;
    public const long VolumeSplitStream = long.MinValue + 3;

    /// <summary>The stream of the patches cut from file <paramref name="fileIndex"/> of a patch sample.</summary>
    public static long PatchFileStream(int fileIndex) => long.MinValue + 1024 + fileIndex;

    public ulong NextUInt64()
    {
        _state = unchecked(_state + 0x9E3779B97F4A7C15UL);
        return Mix(_state);
    }

    /// <summary>Uniform in [0, bound), unbiased (Lemire's multiply-and-reject).</summary>
    public int NextInt(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), bound, "The bound must be positive.");
        ulong b = (ulong)bound;
        while (true)
        {
            ulong x = NextUInt64() >> 32;        // 32 random bits
            ulong m = x * b;                      // < 2^63
            ulong low = m & 0xFFFFFFFFUL;
            if (low >= b || low >= (0x1_0000_0000UL - b) % b) return (int)(m >> 32);
        }
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>The identity permutation of [0, n) shuffled in place by Fisher–Yates.</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}

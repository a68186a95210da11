namespace BlurVae.Training.Data;

/// <summary>
/// Cuts seeded random 2-D patches from the axial slices of NIfTI volumes. Each 3-D volume (each frame of a 4-D
/// file) is first normalised on its own: the 0.5th and 99.5th percentiles of its finite voxels (linear
/// interpolation between order statistics) map to 0 and 1 and values outside are clamped, so a few extreme voxels
/// do not squash the contrast; non-finite voxels become 0; a volume whose percentiles coincide falls back to its
/// min/max, and a constant volume becomes all 0. A patch is side×side pixels of one slice z, row r and column c
/// being voxel (x0 + c, y0 + r, z).
/// </summary>
public static class NiftiPatchSampler
{
    public const double LowPercentile = 0.5, HighPercentile = 99.5;

    /// <summary>A normalised pixel above this counts as foreground for <c>minForeground</c>.</summary>
    public const float ForegroundLevel = 0.1f;

    private const int TriesPerPatch = 200;

    /// <summary>
    /// Samples <paramref name="count"/> patches: each picks a slice uniformly among all slices of all files, then a
    /// position uniformly within it. With <paramref name="minForeground"/> &gt; 0, a patch with a smaller fraction
    /// of pixels above <see cref="ForegroundLevel"/> is redrawn (up to 200 tries per patch on average, then an error).
    /// Patches are grouped by file, in file order; one file is loaded at a time.
    /// </summary>
    public static ImageDataset Sample(IReadOnlyList<string> files, int side, int count, int seed, double minForeground = 0, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new ArgumentException("No NIfTI files given.", nameof(files));
        if (side <= 0) throw new ArgumentOutOfRangeException(nameof(side), side, "The patch side must be positive.");
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "The patch count must be positive.");
        if (!(minForeground >= 0 && minForeground <= 1)) throw new ArgumentOutOfRangeException(nameof(minForeground), minForeground, "The foreground fraction lies in [0, 1].");
        if ((long)count * side * side > Array.MaxLength) throw new ArgumentException($"{count} patches of {side}×{side} do not fit in one in-memory array.", nameof(count));

        // Headers first: every file must fit the patch, and the slice counts weight the files.
        var slices = new long[files.Count];
        for (int f = 0; f < files.Count; f++)
        {
            var h = NiftiReader.ReadHeader(files[f]);
            int nx = h.Dim[1], ny = h.Rank >= 2 ? h.Dim[2] : 1;
            if (nx < side || ny < side)
                throw new DatasetFormatException(files[f], $"slices of {nx}×{ny} voxels are smaller than the {side}×{side} patches asked for.");
            slices[f] = h.VoxelCount / ((long)nx * ny);
        }
        long totalSlices = slices.Sum();
        var perFile = new int[files.Count];
        var pick = new DataRng(seed, DataRng.PatchStream);
        for (int i = 0; i < count; i++)
        {
            long s = (long)(pick.NextDouble() * totalSlices);
            int f = 0;
            while (s >= slices[f]) s -= slices[f++];
            perFile[f]++;
        }

        int plane = side * side;
        var pixels = new float[(long)count * plane];
        int written = 0;
        for (int f = 0; f < files.Count; f++)
        {
            if (perFile[f] == 0) continue;
            var volume = NiftiReader.ReadVolume(files[f]);
            var normalised = Normalise(volume);
            var rng = new DataRng(seed, DataRng.PatchFileStream(f));
            int nx = volume.NX, ny = volume.NY, nSlices = volume.NZ * volume.Frames;
            long tries = 0, maxTries = (long)TriesPerPatch * perFile[f];
            int need = (int)Math.Ceiling(minForeground * plane - 1e-9);
            for (int k = 0; k < perFile[f];)
            {
                if (++tries > maxTries)
                    throw new InvalidDataException($"{files[f]}: found only {k} of {perFile[f]} patches with at least {minForeground:P0} foreground in {maxTries} tries; lower the minimum foreground fraction.");
                int z = rng.NextInt(nSlices), x0 = rng.NextInt(nx - side + 1), y0 = rng.NextInt(ny - side + 1);
                var patch = pixels.AsSpan(written * plane, plane);
                int foreground = 0;
                for (int r = 0; r < side; r++)
                {
                    var row = normalised.AsSpan((int)(((long)z * ny + y0 + r) * nx + x0), side);
                    row.CopyTo(patch.Slice(r * side, side));
                    foreach (var v in row) if (v > ForegroundLevel) foreground++;
                }
                if (foreground < need) continue;
                written++;
                k++;
            }
        }
        name ??= files.Count == 1 ? Path.GetFileName(files[0]) : $"{files.Count} NIfTI volumes";
        return new ImageDataset($"{name} ({count} patches {side}×{side}, seed {seed})", count, 1, side, side, pixels);
    }

    /// <summary>The volume's voxels normalised to [0, 1] frame by frame as described on the class.</summary>
    internal static float[] Normalise(NiftiVolume volume)
    {
        int frame = volume.NX * volume.NY * volume.NZ;
        var output = new float[volume.Voxels.Length];
        for (int t = 0; t < volume.Frames; t++)
            NormaliseFrame(volume.Voxels.AsSpan(t * frame, frame), output.AsSpan(t * frame, frame));
        return output;
    }

    internal static void NormaliseFrame(ReadOnlySpan<float> input, Span<float> output)
    {
        var finite = new float[input.Length];
        int n = 0;
        foreach (var v in input) if (float.IsFinite(v)) finite[n++] = v;
        output.Clear();
        if (n == 0) return;
        Array.Sort(finite, 0, n);
        double lo = Percentile(finite, n, LowPercentile), hi = Percentile(finite, n, HighPercentile);
        if (!(hi > lo))
        {
            lo = finite[0];
            hi = finite[n - 1];
            if (!(hi > lo)) return;   // constant volume: all 0
        }
        double scale = 1.0 / (hi - lo);
        for (int i = 0; i < input.Length; i++)
            output[i] = float.IsFinite(input[i]) ? (float)Math.Clamp((input[i] - lo) * scale, 0.0, 1.0) : 0f;
    }

    /// <summary>The p-th percentile (0..100) of the first n sorted values, interpolating linearly (numpy's default).</summary>
    internal static double Percentile(float[] sorted, int n, double p)
    {
        double pos = p / 100.0 * (n - 1);
        int i = (int)Math.Floor(pos);
        if (i >= n - 1) return sorted[n - 1];
        double frac = pos - i;
        return sorted[i] + frac * ((double)sorted[i + 1] - sorted[i]);
    }
}

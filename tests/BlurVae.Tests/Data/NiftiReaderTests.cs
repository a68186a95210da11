
namespace BlurVae.Tests.Data;

[TestFixture, Category("Data")]
public class NiftiReaderTests : TempDirectoryTest
{
    private static readonly short[] Dims = [3, 4, 2];

    private static double[] Values(short datatype) =>
        Enumerable.Range(0, 24).Select(i => datatype switch
        {
            2 => (double)(i * 10),
            4 => (i - 12) * 1000.0,
            8 => (i - 12) * 100000.0,
            _ => (i - 12) * 0.375,
        }).ToArray();

    [Test]
    public void ReadsEveryDatatypeInBothByteOrders(
        [Values((short)2, (short)4, (short)8, (short)16, (short)64)] short datatype, [Values] bool bigEndian)
    {
        var path = PathOf("v.nii");
        File.WriteAllBytes(path, TestFiles.Nifti(Dims, datatype, Values(datatype), bigEndian));
        var v = NiftiReader.ReadVolume(path);
        Assert.That(v.Header.BigEndian, Is.EqualTo(bigEndian));
        Assert.That((v.NX, v.NY, v.NZ, v.Frames), Is.EqualTo((3, 4, 2, 1)));
        Assert.That(v.Voxels, Is.EqualTo(Values(datatype).Select(x => (float)x)));
    }

    [TestCase(false), TestCase(true)]
    public void ReadsGzipAndAppliesTheScaling(bool bigEndian)
    {
        var path = PathOf("v.nii.gz");
        TestFiles.Write(path, TestFiles.Nifti(Dims, 4, Values(4), bigEndian, slope: 0.5f, inter: -3f, voxOffset: 368), gzip: true);
        Assert.That(NiftiReader.ReadHeader(path).VoxOffset, Is.EqualTo(368));
        Assert.That(NiftiReader.ReadVolume(path).Voxels, Is.EqualTo(Values(4).Select(x => (float)(0.5 * x - 3))));
    }

    private DatasetFormatException Bad(byte[] data, bool gzip = false)
    {
        var path = PathOf(gzip ? "bad.nii.gz" : "bad.nii");
        TestFiles.Write(path, data, gzip);
        var e = Assert.Throws<DatasetFormatException>(() => NiftiReader.ReadVolume(path))!;
        Assert.That(e.Message, Does.StartWith(path));
        return e;
    }

    [Test]
    public void RejectsBadSizeofHdr()
    {
        Assert.That(Bad(TestFiles.Nifti(Dims, 16, Values(16), sizeofHdr: 347)).Message, Does.Contain("bad sizeof_hdr 347"));
        Assert.That(Bad(TestFiles.Nifti(Dims, 16, Values(16), bigEndian: true, sizeofHdr: 540)).Message, Does.Contain("NIfTI-2"));
    }

    [Test]
    public void RejectsBadMagic()
    {
        Assert.That(Bad(TestFiles.Nifti(Dims, 16, Values(16), magic: "xyz")).Message, Does.Contain("bad magic"));
        Assert.That(Bad(TestFiles.Nifti(Dims, 16, Values(16), magic: "ni1")).Message, Does.Contain(".hdr/.img"));
    }

    [TestCase(false, false), TestCase(true, false), TestCase(false, true)]
    public void RejectsTruncatedVoxelData(bool bigEndian, bool gzip)
    {
        var data = TestFiles.Nifti(Dims, 4, Values(4), bigEndian);
        Assert.That(Bad(data[..^3], gzip).Message, Does.Contain("truncated").And.Contain("3×4×2 of int16 need 48 bytes from vox_offset 352").And.Contain("only 45"));
    }

    [Test]
    public void RejectsTruncatedHeader()
    {
        Assert.That(Bad(TestFiles.Nifti(Dims, 16, Values(16))[..200]).Message, Does.Contain("shorter than the 348-byte"));
        Assert.That(Bad([1, 2]).Message, Does.Contain("truncated"));
    }

    [TestCase(false), TestCase(true)]
    public void RejectsDimsThatLie(bool bigEndian)
    {
        var data = TestFiles.Nifti([300, 300, 300], 16, new double[24], bigEndian);   // header says 27M voxels, file holds 24
        Assert.That(Bad(data).Message, Does.Contain("300×300×300 of float32 need 108000000 bytes"));
        var negative = TestFiles.Nifti([3, -4, 2], 16, new double[24], bigEndian);
        Assert.That(Bad(negative).Message, Does.Contain("dim[2] = -4"));
    }

    [Test]
    public void RejectsVoxOffsetBeyondTheFile()
    {
        var data = TestFiles.Nifti(Dims, 16, Values(16));
        BitConverter.TryWriteBytes(data.AsSpan(108), 1e6f);
        Assert.That(Bad(data).Message, Does.Contain("vox_offset 1000000 is beyond the end of the file"));
        BitConverter.TryWriteBytes(data.AsSpan(108), 100f);
        Assert.That(Bad(data).Message, Does.Contain("vox_offset 100"));
    }

    [Test]
    public void RejectsUnsupportedDatatypesAndBitpixMismatch()
    {
        Assert.That(Bad(TestFiles.Nifti(Dims, 32, new double[48], bitpix: 64)).Message, Does.Contain("unsupported datatype 32 (complex64)"));
        Assert.That(Bad(TestFiles.Nifti(Dims, 128, new double[18], bitpix: 24)).Message, Does.Contain("unsupported datatype 128 (rgb24)"));
        Assert.That(Bad(TestFiles.Nifti(Dims, 16, Values(16), bitpix: 16)).Message, Does.Contain("bitpix 16 disagrees with datatype 16 (float32, 32 bits)"));
    }

    [Test]
    public void NormalisesToRobustPercentiles()
    {
        // 0..199 plus an extreme outlier: numpy.percentile(v, [0.5, 99.5]) is the reference definition.
        var values = Enumerable.Range(0, 200).Select(i => (float)i).Append(1e6f).Append(float.NaN).ToArray();
        var finite = values.Where(float.IsFinite).Order().ToArray();
        double lo = 0.005 * 200, hi = finite[199] + (0.995 * 200 - 199) * (finite[200] - finite[199]);
        var output = new float[values.Length];
        NiftiPatchSampler.NormaliseFrame(values, output);
        Assert.That(output[0], Is.EqualTo(0f));
        Assert.That(output[100], Is.EqualTo((float)((100 - lo) / (hi - lo))).Within(1e-6));
        Assert.That(output[200], Is.EqualTo(1f), "the outlier is clamped");
        Assert.That(output[201], Is.EqualTo(0f), "NaN becomes 0");
        var constant = new float[10];
        NiftiPatchSampler.NormaliseFrame(Enumerable.Repeat(5f, 10).ToArray(), constant);
        Assert.That(constant, Is.All.EqualTo(0f));
    }

    /// <summary>A 12×10×5 float volume of distinct values x + 12y + 120z (+ 1000 per frame).</summary>
    private string GradientVolume(string name, int frames = 1, bool gzip = false)
    {
        short[] dims = frames == 1 ? [12, 10, 5] : [12, 10, 5, (short)frames];
        var values = Enumerable.Range(0, 600 * frames).Select(i => (double)(i % 600 + 1000 * (i / 600))).ToArray();
        var path = PathOf(name);
        TestFiles.Write(path, TestFiles.Nifti(dims, 16, values), gzip);
        return path;
    }

    [Test]
    public void PatchesAreSeededCutsOfTheNormalisedSlices()
    {
        var path = GradientVolume("g.nii.gz", gzip: true);
        var d = NiftiPatchSampler.Sample([path], side: 4, count: 30, seed: 5);
        Assert.That((d.Count, d.Channels, d.Height, d.Width), Is.EqualTo((30, 1, 4, 4)));
        var normalised = NiftiPatchSampler.Normalise(NiftiReader.ReadVolume(path));
        for (int n = 0; n < d.Count; n++)
        {
            var patch = d.GetImage(n);
            bool found = false;
            for (int z = 0; z < 5 && !found; z++)
                for (int y0 = 0; y0 <= 6 && !found; y0++)
                    for (int x0 = 0; x0 <= 8 && !found; x0++)
                        found = Enumerable.Range(0, 16).All(k => patch[k] == normalised[(z * 10 + y0 + k / 4) * 12 + x0 + k % 4]);
            Assert.That(found, $"patch {n} is a 4×4 window of an axial slice");
        }
        var same = NiftiPatchSampler.Sample([path], 4, 30, seed: 5);
        var other = NiftiPatchSampler.Sample([path], 4, 30, seed: 6);
        Assert.That(same.GetBatch(Enumerable.Range(0, 30).ToArray()).ToFloatArray(), Is.EqualTo(d.GetBatch(Enumerable.Range(0, 30).ToArray()).ToFloatArray()));
        Assert.That(other.GetBatch(Enumerable.Range(0, 30).ToArray()).ToFloatArray(), Is.Not.EqualTo(d.GetBatch(Enumerable.Range(0, 30).ToArray()).ToFloatArray()));
    }

    [Test]
    public void FramesOfA4DFileAreNormalisedSeparately()
    {
        var v = NiftiReader.ReadVolume(GradientVolume("t.nii", frames: 2));
        Assert.That((v.NZ, v.Frames), Is.EqualTo((5, 2)));
        var n = NiftiPatchSampler.Normalise(v);
        Assert.That(n.AsSpan(600, 600).ToArray(), Is.EqualTo(n.AsSpan(0, 600).ToArray()).Within(1e-6), "frame 1 is frame 0 + 1000, so both normalise alike");
    }

    [Test]
    public void NearEmptyPatchesAreSkippedOnRequest()
    {
        // Left half of every slice is 0, right half bright: a 4×4 patch overlaps the bright half in only some positions.
        var values = Enumerable.Range(0, 600).Select(i => i % 12 < 6 ? 0.0 : 100.0 + i % 7).ToArray();
        var path = PathOf("half.nii");
        File.WriteAllBytes(path, TestFiles.Nifti([12, 10, 5], 16, values));
        static double Fraction(float[] p) => p.Count(v => v > NiftiPatchSampler.ForegroundLevel) / (double)p.Length;
        var all = NiftiPatchSampler.Sample([path], 4, 100, seed: 1);
        var kept = NiftiPatchSampler.Sample([path], 4, 100, seed: 1, minForeground: 0.75);
        Assert.That(Enumerable.Range(0, 100).Count(i => Fraction(all.GetImage(i)) < 0.75), Is.GreaterThan(10));
        Assert.That(Enumerable.Range(0, 100).Select(i => Fraction(kept.GetImage(i))), Is.All.GreaterThanOrEqualTo(0.75));
        var empty = PathOf("empty.nii");
        File.WriteAllBytes(empty, TestFiles.Nifti([12, 10, 5], 16, new double[600]));
        Assert.That(() => NiftiPatchSampler.Sample([empty], 4, 3, 0, minForeground: 0.1),
            Throws.TypeOf<InvalidDataException>().With.Message.StartsWith(empty).And.Message.Contains("lower the minimum foreground"));
    }

    [Test]
    public void PatchLargerThanTheSliceIsRejected()
    {
        var path = GradientVolume("g.nii");
        Assert.That(() => NiftiPatchSampler.Sample([path], 11, 3, 0),
            Throws.TypeOf<DatasetFormatException>().With.Message.StartsWith(path).And.Message.Contains("12×10"));
    }

    [Test]
    public void PatchesComeFromEveryFile()
    {
        var a = GradientVolume("a.nii");
        var values = Enumerable.Range(0, 600).Select(i => (double)(600 - i)).ToArray();   // decreasing: distinguishable
        var b = PathOf("b.nii");
        File.WriteAllBytes(b, TestFiles.Nifti([12, 10, 5], 16, values));
        var d = NiftiPatchSampler.Sample([a, b], 4, 40, seed: 3);
        int increasing = Enumerable.Range(0, 40).Count(i => d.GetPixel(i, 0, 1, 1) > d.GetPixel(i, 0, 0, 0));
        Assert.That(increasing, Is.InRange(5, 35), "both volumes contribute patches");
    }
}

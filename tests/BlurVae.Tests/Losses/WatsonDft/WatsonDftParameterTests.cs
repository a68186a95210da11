
namespace BlurVae.Tests.Losses.WatsonDft;

[TestFixture, Category("Losses")]
public class WatsonDftParameterTests
{
    private static string GrayJson() => WatsonDftJson.ReadResource(WatsonDftJson.GrayResource);

    [Test]
    public void GrayscaleJsonLoadsWithTheDocumentedShapes()
    {
        var p = WatsonParameters.LoadGrayscale();
        Assert.Multiple(() =>
        {
            Assert.That(p.BlockSize, Is.EqualTo(8));
            Assert.That(p.TTilde.GetLength(0), Is.EqualTo(8));
            Assert.That(p.TTilde.GetLength(1), Is.EqualTo(5));
            Assert.That(p.WPhaseTilde.GetLength(0), Is.EqualTo(8));
            Assert.That(p.WPhaseTilde.GetLength(1), Is.EqualTo(5));
            // Spot values from gray_watson_fft_trial0.json.
            Assert.That(p.TTilde[0, 0], Is.EqualTo(-1.3606555461883545));
            Assert.That(p.TTilde[7, 4], Is.EqualTo(-0.5171204209327698));
            Assert.That(p.WPhaseTilde[0, 0], Is.EqualTo(0.20856867730617523));
            Assert.That(p.Alpha, Is.EqualTo(-0.13517846167087555));
            Assert.That(p.WTilde, Is.EqualTo(-1.351180076599121));
            Assert.That(p.Beta, Is.EqualTo(0.6144839525222778));
            Assert.That(p.W, Is.EqualTo(1 / (1 + Math.Exp(1.351180076599121))).Within(1e-15));
        });
    }

    [Test]
    public void ColorJsonLoadsWithTheDocumentedShapes()
    {
        var p = WatsonColorParameters.LoadDefault();
        Assert.Multiple(() =>
        {
            Assert.That(p.Transform.GetLength(0), Is.EqualTo(3));
            Assert.That(p.Transform.GetLength(1), Is.EqualTo(3));
            // Stored [rgb, ycc]: column 0 is the luma row 0.299, 0.587, 0.114 (float32-rounded).
            Assert.That(p.Transform[0, 0], Is.EqualTo(0.299).Within(1e-7));
            Assert.That(p.Transform[1, 0], Is.EqualTo(0.587).Within(1e-7));
            Assert.That(p.Transform[0, 1], Is.EqualTo(-0.1687).Within(1e-7));
            Assert.That(p.Bias, Is.EqualTo(new[] { 0.0, 0.5, 0.5 }));
            Assert.That(p.ChannelWTilde, Has.Length.EqualTo(3));
            Assert.That(p.ChannelWTilde[1], Is.EqualTo(-0.1147141084074974));
            Assert.That(p.ChannelWeights.Sum(), Is.EqualTo(1).Within(1e-15));
            foreach (var m in new[] { p.Y, p.Cb, p.Cr })
            {
                Assert.That(m.BlockSize, Is.EqualTo(8));
                Assert.That(m.TTilde.GetLength(0) * 10 + m.TTilde.GetLength(1), Is.EqualTo(85));
                Assert.That(m.WPhaseTilde.GetLength(0) * 10 + m.WPhaseTilde.GetLength(1), Is.EqualTo(85));
            }
            Assert.That(p.Y.Alpha, Is.EqualTo(0.17103087902069092));
            Assert.That(p.Cb.WTilde, Is.EqualTo(-3.029108762741089));
            Assert.That(p.Cr.Alpha, Is.EqualTo(1.5134614706039429));
            Assert.That(p.Cr.Beta, Is.EqualTo(0.5863381028175354));
        });
    }

    [Test]
    public void UntrainedHasTheReferenceInitialValues()
    {
        var p = WatsonParameters.Untrained();
        var c = WatsonColorParameters.Untrained();
        Assert.Multiple(() =>
        {
            Assert.That(p.TTilde.Cast<double>(), Is.All.EqualTo(0.0));
            Assert.That(p.WPhaseTilde.Cast<double>(), Is.All.EqualTo(-2.0));
            Assert.That(p.Alpha, Is.EqualTo(0.1));
            Assert.That(p.W, Is.EqualTo(0.2).Within(1e-15));
            Assert.That(p.Beta, Is.EqualTo(1.0));
            Assert.That(c.ChannelWeights, Is.All.EqualTo(1.0 / 3).Within(1e-15));
            Assert.That(c.Transform[2, 1], Is.EqualTo(0.5));
            Assert.That(c.Transform[1, 2], Is.EqualTo(-0.4187));
        });
    }

    [Test]
    public void PhaseWeightsAreZeroOnTheFourRealCoefficients()
    {
        var w = WatsonParameters.LoadGrayscale().PhaseWeights();
        var tilde = WatsonParameters.LoadGrayscale().WPhaseTilde;
        for (int u = 0; u < 8; u++)
            for (int v = 0; v < 5; v++)
            {
                bool real = (u == 0 || u == 4) && (v == 0 || v == 4);
                Assert.That(w[u * 5 + v], Is.EqualTo(real ? 0 : Math.Exp(tilde[u, v])), $"({u}, {v})");
            }
    }

    [Test]
    public void MissingFieldNamesTheFileAndTheField()
    {
        string json = GrayJson().Replace("\"t_tild\"", "\"t_tilde_renamed\"");
        var e = Assert.Throws<InvalidDataException>(() => WatsonParameters.FromJson(json, "broken_gray.json"))!;
        Assert.That(e.Message, Does.Contain("broken_gray.json").And.Contain("'t_tild'").And.Contain("missing"));
    }

    [Test]
    public void ShortRowNamesTheFieldAndTheRow()
    {
        // Drop the last entry of t_tild's row 3: "-1.7407594919204712" is its last value.
        string json = System.Text.RegularExpressions.Regex.Replace(GrayJson(), @",\s*-1\.7407594919204712", "");
        Assert.That(json, Is.Not.EqualTo(GrayJson()), "the edit must apply");
        var e = Assert.Throws<InvalidDataException>(() => WatsonParameters.FromJson(json, "short.json"))!;
        Assert.That(e.Message, Does.Contain("short.json").And.Contain("'t_tild'").And.Contain("row 3"));
    }

    [Test]
    public void NonNumericValueNamesTheField()
    {
        string json = GrayJson().Replace("\"alpha\": -0.13517846167087555", "\"alpha\": \"strong\"");
        var e = Assert.Throws<InvalidDataException>(() => WatsonParameters.FromJson(json, "words.json"))!;
        Assert.That(e.Message, Does.Contain("words.json").And.Contain("'alpha'").And.Contain("\"strong\""));
    }

    [Test]
    public void NonPositiveBetaIsRejected()
    {
        string json = GrayJson().Replace("\"beta\": 0.6144839525222778", "\"beta\": -0.5");
        var e = Assert.Throws<InvalidDataException>(() => WatsonParameters.FromJson(json, "beta.json"))!;
        Assert.That(e.Message, Does.Contain("beta.json").And.Contain("'beta'").And.Contain("positive"));
    }

    [Test]
    public void InvalidJsonNamesTheFile()
    {
        var e = Assert.Throws<InvalidDataException>(() => WatsonParameters.FromJson("{ \"blocksize\": 8, ", "truncated.json"))!;
        Assert.That(e.Message, Does.Contain("truncated.json").And.Contain("not valid JSON"));
        var e2 = Assert.Throws<InvalidDataException>(() => WatsonParameters.FromJson("[1, 2]", "list.json"))!;
        Assert.That(e2.Message, Does.Contain("list.json").And.Contain("object"));
    }

    [Test]
    public void ColorFileNamesThePrefixedField()
    {
        string json = WatsonDftJson.ReadResource(WatsonDftJson.ColorResource).Replace("\"lcb.beta\"", "\"lcb.betta\"");
        var e = Assert.Throws<InvalidDataException>(() => WatsonColorParameters.FromJson(json, "rgb_broken.json"))!;
        Assert.That(e.Message, Does.Contain("rgb_broken.json").And.Contain("'lcb.beta'"));

        string noBias = WatsonDftJson.ReadResource(WatsonDftJson.ColorResource).Replace("\"to_YCbCr.bias\": [", "\"to_YCbCr.bias\": [ 1.0,");
        var e2 = Assert.Throws<InvalidDataException>(() => WatsonColorParameters.FromJson(noBias, "rgb_bias.json"))!;
        Assert.That(e2.Message, Does.Contain("rgb_bias.json").And.Contain("'to_YCbCr.bias'").And.Contain("3 numbers"));
    }

    [Test]
    public void FilesLoadAndMissingFilesAreNamed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"watson-gray-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, GrayJson());
        try
        {
            var fromFile = WatsonParameters.FromFile(path);
            Assert.That(fromFile.TTilde, Is.EqualTo(WatsonParameters.LoadGrayscale().TTilde));
        }
        finally
        {
            File.Delete(path);
        }
        var e = Assert.Throws<FileNotFoundException>(() => WatsonColorParameters.FromFile("/nonexistent/rgb.json"))!;
        Assert.That(e.Message, Does.Contain("/nonexistent/rgb.json"));
    }
}

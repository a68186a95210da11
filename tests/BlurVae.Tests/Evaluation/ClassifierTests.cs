using System.Globalization;
using BlurVae.Training.Classifier;
using BlurVae.Tests.Cli;

namespace BlurVae.Tests.Evaluation;

[TestFixture, Category("Evaluation")]
public class ClassifierTests
{
    [Test]
    public void CrossEntropyByHand()
    {
        double[] logits = [1, 2, 3, 1000, 0, -1000];
        var loss = CrossEntropy.Compute(Tensor.FromArray(logits, [2, 3]), [2, 0]).Item();
        double row0 = -(3 - Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3)));
        // The second row would overflow exp without the max shift; its log-softmax at label 0 is 0 to double precision.
        Assert.That(loss, Is.EqualTo(row0 / 2).Within(1e-12));
        Assert.That(() => CrossEntropy.Compute(Tensor.FromArray(logits, [2, 3]), [3, 0]), Throws.ArgumentException.With.Message.Contains("outside 0..2"));
    }

    [Test]
    public void TrainsAboveChanceAndRecordsItself()
    {
        var dir = Directory.CreateTempSubdirectory("blurvae-classifier-");
        try
        {
            string path = Path.Combine(dir.FullName, "c.safetensors");
            var (code, output, err) = CliRunner.Invoke("train-classifier", "--data", "embedded", "--epochs", "1", "--max-images", "600",
                "--max-test-images", "300", "--lr", "0.003", "--out", path);
            Assert.That(code, Is.Zero, err);
            var (model, meta) = ClassifierWeights.Load(path);
            double test = double.Parse(meta["test_accuracy"], CultureInfo.InvariantCulture);
            Assert.Multiple(() =>
            {
                Assert.That(test, Is.GreaterThan(0.3), "10 classes: chance is 0.1");
                Assert.That(meta["command"], Does.StartWith("blurvae train-classifier --data embedded --epochs 1"));
                Assert.That(meta["train_images"], Is.EqualTo("600"));
                Assert.That(output, Does.Contain("test accuracy"));
            });
            // The reloaded weights give the recorded accuracy back.
            var split = DatasetCatalog.Open("embedded", new DatasetOptions { Seed = 1 });
            var testSet = split.Test.PadTo(32).Subset(Enumerable.Range(0, 300).ToArray());
            Assert.That(ClassifierTraining.Accuracy(model, testSet), Is.EqualTo(test));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void ShippedWeightsHoldTheirRecordedAccuracy()
    {
        // The shipped file was trained on Debian's 60 000 training images; the embedded set is Fashion-MNIST's test
        // split, so its first 2 000 images re-measure the recorded test accuracy.
        var (model, meta) = ClassifierWeights.Load(null);
        double recorded = double.Parse(meta["test_accuracy"], CultureInfo.InvariantCulture);
        var embedded = DatasetCatalog.EmbeddedFashionMnist().PadTo(32);
        double measured = ClassifierTraining.Accuracy(model, embedded.Subset(Enumerable.Range(0, 2000).ToArray()));
        Assert.Multiple(() =>
        {
            Assert.That(meta["command"], Does.StartWith("blurvae train-classifier"));
            Assert.That(double.Parse(meta["train_accuracy"], CultureInfo.InvariantCulture), Is.GreaterThan(0.85));
            Assert.That(recorded, Is.GreaterThan(0.85));
            Assert.That(measured, Is.EqualTo(recorded).Within(0.02));
        });
    }

    [Test]
    public void MissingWeightsSayHowToMakeThem() =>
        Assert.That(() => ClassifierWeights.Load("/nonexistent/c.safetensors"),
            Throws.TypeOf<FileNotFoundException>().With.Message.Contains("blurvae train-classifier --out").And.Message.Contains("FD-FMNIST"));

    [Test]
    public void BadFlagsAreErrors()
    {
        var (code, _, err) = CliRunner.Invoke("train-classifier", "--epochs", "0");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(err, Does.Contain("--epochs"));
    }
}

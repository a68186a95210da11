namespace BlurVae.Tests.Benchmarks;

[TestFixture]
public class TorchPythonTests
{
    [Test]
    public void AMissingInterpreterIsReportedNotChosen()
    {
        var (python, report) = TorchPython.Find(["/nonexistent/python3"]);
        Assert.That(python, Is.Null);
        Assert.That(report, Does.Contain("/nonexistent/python3"));
    }

    [Test]
    public void AnInterpreterWithoutTorchIsSkippedForTheNextOne()
    {
        // /bin/false exits non-zero like an interpreter whose `import torch` fails.
        var (python, report) = TorchPython.Find(["/bin/false", "/nonexistent/python3"]);
        Assert.That(python, Is.Null);
        Assert.That(report, Does.Contain("/bin/false").And.Contain("/nonexistent/python3"));
    }

    [Test]
    public void TheExplicitChoiceComesFirst()
    {
        var old = Environment.GetEnvironmentVariable("BLURVAE_PYTHON");
        try
        {
            Environment.SetEnvironmentVariable("BLURVAE_PYTHON", "/some/chosen/python");
            Assert.That(TorchPython.Candidates()[0], Is.EqualTo("/some/chosen/python"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("BLURVAE_PYTHON", old);
        }
    }
}


namespace BlurVae.Tests.Train;

[TestFixture, Category("Training")]
public class RunProgressTests
{
    [Test]
    public void TheLineLabelsItsTimesAndShowsStepLossAndRunEta()
    {
        var p = new RunProgress(epochs: 3, stepsPerEpoch: 10);
        Assert.That(p.Describe("epoch 1/3", 0, 0, 0, 0), Is.EqualTo("epoch 1/3 · step 0/10 · elapsed 0:00"));
        for (int i = 0; i < 4; i++) p.StepDone(2.0);
        // 6 steps left of this epoch and 20 of the two after it, at 2 s each.
        Assert.That(p.RunSecondsLeft(0, 4), Is.EqualTo(52).Within(1e-9));
        Assert.That(p.Describe("epoch 1/3", 0, 4, 12.345, 8), Is.EqualTo("epoch 1/3 · step 4/10 · loss 12.35 · elapsed 0:08 · epoch left 0:12 · run left 0:52"));
        p.EpochEndDone(5);
        Assert.That(p.RunSecondsLeft(1, 0), Is.EqualTo(20 * 2.0 + 2 * 5).Within(1e-9), "evaluation time per remaining epoch counts too");
        Assert.That(RunProgress.Clock(3725), Is.EqualTo("1:02:05"));
    }

    [Test]
    public void ResumeChangesApplyWhatMayChangeAndNameWhatMayNot()
    {
        var saved = new TrainOptions { Lr = 1e-4, Latent = 8, Epochs = 2 };
        var (options, changes) = ResumeChanges.Apply(saved, saved with { Lr = 1e-3, Epochs = 5 }, ["lr", "epochs"], "run");
        Assert.That((options.Lr, options.Epochs, options.Latent), Is.EqualTo((1e-3, 5, 8)));
        Assert.That(changes, Is.EqualTo(new[] { "--lr 0.0001 → 0.001" }));
        // Given explicitly, an unchanged value is no change; a changed architecture is refused by name.
        Assert.That(ResumeChanges.Apply(saved, saved, ["latent"], "run").Changes, Is.Empty);
        Assert.That(() => ResumeChanges.Apply(saved, saved with { Latent = 9 }, ["latent"], "run"),
            Throws.TypeOf<BlurVae.Training.Errors.UserError>().With.Message.Contains("--latent 8 → 9"));
        // Without the list of given names, differences from the defaults count as given.
        Assert.That(() => ResumeChanges.Apply(saved, new TrainOptions { Loss = LossKind.L2 }, null, "run"),
            Throws.TypeOf<BlurVae.Training.Errors.UserError>().With.Message.Contains("--loss wiener → l2"));
    }
}

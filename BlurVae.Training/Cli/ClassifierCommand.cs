using System.CommandLine;
using BlurVae.Training.Classifier;

namespace BlurVae.Training.Cli;

/// <summary>`blurvae train-classifier`: the Fashion-MNIST classifier behind FD-FMNIST (BlurVae.Training/Classifier).</summary>
internal static class ClassifierCommand
{
    private static readonly ClassifierOptions D = new();

    public static Command Create(Func<Func<int>, int> guard)
    {
        var data = new Option<string>("--data") { Description = "Labelled Fashion-MNIST: 'auto' (Debian's /usr/share/datasets/fashion-mnist, 60 000 + 10 000 images, if installed, else the embedded 10 000 split 80/20), 'fashion-mnist', 'embedded' or an IDX path", DefaultValueFactory = _ => D.Data };
        var epochs = new Option<int>("--epochs") { Description = "Epochs", DefaultValueFactory = _ => D.Epochs };
        var batch = new Option<int>("--batch-size") { Description = "Images per batch", DefaultValueFactory = _ => D.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => D.Lr };
        var seed = new Option<int>("--seed") { Description = "Seed of initialisation and shuffling", DefaultValueFactory = _ => D.Seed };
        var maxImages = new Option<int>("--max-images") { Description = "Train on at most this many images (0 = all)", DefaultValueFactory = _ => D.MaxImages };
        var maxTest = new Option<int>("--max-test-images") { Description = "Measure the test accuracy on at most this many images (0 = all)", DefaultValueFactory = _ => D.MaxTestImages };
        var output = new Option<string>("--out") { Description = "Weights file to write (safetensors; accuracies and this command in its metadata)", DefaultValueFactory = _ => D.Out };
        var command = new Command("train-classifier", "Train the small Fashion-MNIST classifier whose penultimate features define FD-FMNIST (a Fréchet distance for users without Inception weights; never called FID), and record its training and test accuracy.");
        foreach (var o in new Option[] { data, epochs, batch, lr, seed, maxImages, maxTest, output }) command.Options.Add(o);
        command.SetAction(r => guard(() =>
        {
            var options = new ClassifierOptions
            {
                Data = r.GetValue(data)!, Epochs = r.GetValue(epochs), BatchSize = r.GetValue(batch), Lr = r.GetValue(lr),
                Seed = r.GetValue(seed), MaxImages = r.GetValue(maxImages), MaxTestImages = r.GetValue(maxTest), Out = r.GetValue(output)!,
            };
            ClassifierTraining.Run(options, "blurvae " + string.Join(' ', r.Tokens.Select(t => t.Value)), Console.Out);
            return 0;
        }));
        return command;
    }
}

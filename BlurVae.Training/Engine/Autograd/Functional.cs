
namespace BlurVae.Training.Engine.Autograd;

/// <summary>Layer ops with parameters, in PyTorch's torch.nn.functional spelling.</summary>
public static class Functional
{
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null) => LinearFunction.Forward(x, weight, bias);

    /// <summary>activation(linear(x)) as one op (LinearFunction): Relu, LeakyRelu with slope alpha ≥ 0, or Relu6.</summary>
    public static Tensor LinearActivation(Tensor x, Tensor weight, Tensor? bias, UnaryOp activation, double alpha = 0.0) =>
        LinearFunction.Forward(x, weight, bias, activation, alpha);

    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0) =>
        Conv2dFunction.Forward(x, weight, bias, stride, padding);

    /// <summary>Conv2d with a stride and zero padding per axis (H, W): Inception's 1×7 layers pad (0, 3).</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding) =>
        Conv2dFunction.Forward(x, weight, bias, stride, padding);

    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0) =>
        ConvTranspose2dFunction.Forward(x, weight, bias, stride, padding, outputPadding);

    /// <summary>batch_norm(x); in training, <paramref name="statistics"/> (a convolution's [C, 2]) replace the computed batch statistics.</summary>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? gamma, Tensor? beta, bool training, double momentum = 0.1, double eps = 1e-5,
                                   Tensor? statistics = null) =>
        BatchNormFunction.Forward(x, gamma, beta, runningMean, runningVar, training, momentum, eps, statistics);

    /// <summary>
    /// leaky_relu(batch_norm(x)): in training one fused op (BatchNormLeakyReluFunction); in evaluation, with the
    /// running statistics, the two ops in a row. <paramref name="statistics"/> as <see cref="BatchNorm"/>'s (training only).
    /// </summary>
    public static Tensor BatchNormLeakyRelu(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? gamma, Tensor? beta, bool training,
                                            double negativeSlope, double momentum = 0.1, double eps = 1e-5, Tensor? statistics = null) =>
        training
            ? BatchNormLeakyReluFunction.Forward(x, gamma, beta, runningMean, runningVar, momentum, eps, negativeSlope, statistics)
            : BatchNorm(x, runningMean, runningVar, gamma, beta, training: false, momentum, eps).LeakyRelu(negativeSlope);
}


namespace BlurVae.Training.Classifier;

/// <summary>
/// Mean cross-entropy of class logits [N, K] against integer labels, through log-softmax written as
/// (logits − m) − log Σ exp(logits − m) with m the per-row maximum (a constant: it cancels in value and gradient),
/// so no exp overflows and no log meets a zero.
/// </summary>
public static class CrossEntropy
{
    public static Tensor Compute(Tensor logits, IReadOnlyList<int> labels)
    {
        if (logits.Rank != 2 || logits.Shape[0] != labels.Count)
            throw new ArgumentException($"Cross-entropy needs logits [N, K] with N = {labels.Count} labels (got {Tensor.ShapeString(logits.Shape)}).");
        int n = logits.Shape[0], k = logits.Shape[1];
        var values = logits.ToDoubleArray();
        var max = new double[n];
        var oneHot = new double[n * k];
        for (int i = 0; i < n; i++)
        {
            if (labels[i] < 0 || labels[i] >= k) throw new ArgumentException($"Label {labels[i]} of row {i} is outside 0..{k - 1}.");
            max[i] = values.AsSpan(i * k, k).ToArray().Max();
            oneHot[i * k + labels[i]] = 1;
        }
        var shifted = logits - Tensor.FromArray(max, [n, 1], logits.DType, logits.Backend);
        var logSoftmax = shifted - shifted.Exp().Sum([1], keepDims: true).Log();
        return -(logSoftmax * Tensor.FromArray(oneHot, [n, k], logits.DType, logits.Backend)).Sum() / n;
    }
}

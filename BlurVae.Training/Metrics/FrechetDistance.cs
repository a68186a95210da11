using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace BlurVae.Training.Metrics;

/// <summary>The mean and covariance of a set of feature vectors: what a Fréchet distance compares.</summary>
public sealed record FeatureStatistics(double[] Mean, double[,] Covariance, int Count)
{
    public int Dimension => Mean.Length;

    /// <summary>
    /// Mean and unbiased covariance (divide by n − 1, numpy's np.cov(rowvar=False) as pytorch-fid uses) of
    /// <paramref name="features"/>: n rows of d values, row-major.
    /// </summary>
    public static FeatureStatistics Of(double[] features, int dimension)
    {
        if (dimension < 1) throw new ArgumentException($"The feature dimension must be positive (got {dimension}).", nameof(dimension));
        if (features.Length % dimension != 0)
            throw new ArgumentException($"{features.Length} values are not whole rows of {dimension} features.", nameof(features));
        int n = features.Length / dimension;
        if (n < 2) throw new ArgumentException($"A covariance needs at least 2 feature vectors (got {n}).", nameof(features));
        var mean = new double[dimension];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < dimension; j++) mean[j] += features[i * dimension + j];
        for (int j = 0; j < dimension; j++) mean[j] /= n;
        var centred = Matrix<double>.Build.Dense(n, dimension, (i, j) => features[i * dimension + j] - mean[j]);
        var cov = centred.TransposeThisAndMultiply(centred).Divide(n - 1);
        return new FeatureStatistics(mean, cov.ToArray(), n);
    }
}

/// <summary>
/// The Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, the FID formula):
/// ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2·tr((Σ₁Σ₂)^½), in float64. pytorch-fid takes scipy.linalg.sqrtm of the
/// non-symmetric product Σ₁Σ₂; here tr((Σ₁Σ₂)^½) = tr((Σ₁^½ Σ₂ Σ₁^½)^½), whose inner matrix is symmetric positive
/// semi-definite, so two symmetric eigendecompositions (MathNet.Numerics) give it without complex arithmetic and
/// without the small imaginary parts sqrtm leaves (the Reference tests compare both against scipy).
/// </summary>
public static class FrechetDistance
{
    public static double Compute(FeatureStatistics a, FeatureStatistics b)
    {
        if (a.Dimension != b.Dimension)
            throw new ArgumentException($"The feature sets have {a.Dimension} and {b.Dimension} dimensions; a Fréchet distance needs the same.");
        double meanTerm = 0;
        for (int j = 0; j < a.Dimension; j++) meanTerm += (a.Mean[j] - b.Mean[j]) * (a.Mean[j] - b.Mean[j]);
        var s1 = Matrix<double>.Build.DenseOfArray(a.Covariance);
        var s2 = Matrix<double>.Build.DenseOfArray(b.Covariance);
        return meanTerm + s1.Trace() + s2.Trace() - 2 * TraceSqrtProduct(s1, s2);
    }

    /// <summary>tr((Σ₁Σ₂)^½) for symmetric positive semi-definite Σ₁, Σ₂.</summary>
    public static double TraceSqrtProduct(Matrix<double> s1, Matrix<double> s2)
    {
        var root = SymmetricSqrt(s1);
        var inner = root * s2 * root;
        inner = (inner + inner.Transpose()) / 2; // symmetric up to rounding; make it exactly so for the symmetric solver
        double trace = 0;
        foreach (var lambda in inner.Evd(Symmetricity.Symmetric).EigenValues)
            trace += Math.Sqrt(Math.Max(lambda.Real, 0)); // rounding can leave tiny negative eigenvalues of a PSD matrix
        return trace;
    }

    /// <summary>The principal square root V·diag(√λ)·Vᵀ of a symmetric positive semi-definite matrix.</summary>
    public static Matrix<double> SymmetricSqrt(Matrix<double> s)
    {
        if (s.RowCount != s.ColumnCount) throw new ArgumentException($"A matrix square root needs a square matrix (got {s.RowCount}×{s.ColumnCount}).");
        var evd = s.Evd(Symmetricity.Symmetric);
        var roots = Vector<double>.Build.Dense(s.RowCount, i => Math.Sqrt(Math.Max(evd.EigenValues[i].Real, 0)));
        return evd.EigenVectors * Matrix<double>.Build.DiagonalOfDiagonalVector(roots) * evd.EigenVectors.Transpose();
    }
}


namespace BlurVae.Training.Losses;

/// <summary>
/// Sums over the full H×W spectrum of a real image taken over Rfft2's half spectrum [..., H, W/2+1].
/// Bin (u, v) and its mirror (−u, −v) are complex conjugates, so any function of |F| is equal at both; the half
/// spectrum drops the mirrors of the interior columns (all but column 0 and, for even W, column W/2), hence
/// Σ_full f(|F|) = Σ_half m_v · f(|F|) with m_v = 2 on interior columns and 1 on the self-conjugate ones.
/// </summary>
internal static class HalfSpectrum
{
    /// <summary>The multiplicities m_v as a [W/2+1] tensor, broadcasting over [..., H, W/2+1].</summary>
    public static Tensor ColumnMultiplicity(int w, Tensor like)
    {
        var m = new double[w / 2 + 1];
        for (int v = 0; v < m.Length; v++) m[v] = ShapeRules.ColumnMultiplicity(v, w);
        return Tensor.FromArray(m, [m.Length], like.DType, like.Backend);
    }

    /// <summary>|z|² of complex values stored as a trailing (re, im) axis: [..., 2] → [...].</summary>
    public static Tensor AbsSquared(Tensor z) => z.Square().Sum([-1]);
}

namespace Dstar.Engine.Guarantees;

/// <summary>An estimate with a two-sided confidence interval [Low, High].</summary>
public readonly record struct Interval(double Estimate, double Low, double High)
{
    /// <summary>Whether <paramref name="value"/> lies in [Low, High].</summary>
    public bool Contains(double value) => value >= Low && value <= High;
}

/// <summary>E‖G‖^r of the rule's output against E‖ĝ‖^r of one honest worker's minibatch gradient.</summary>
/// <param name="Order">r.</param>
/// <param name="Aggregate">E‖G‖^r, with its interval.</param>
/// <param name="Honest">E‖ĝ‖^r.</param>
public sealed record MomentComparison(int Order, Interval Aggregate, double Honest)
{
    /// <summary>E‖G‖^r / E‖ĝ‖^r.</summary>
    public double Ratio => Aggregate.Estimate / Honest;
}

/// <summary>
/// The (α, f)-Byzantine resilience conditions of Blanchard et al. (NeurIPS 2017, Definition 1), measured at one point:
/// (i) ⟨E[G], g⟩ ≥ (1 − sin α)‖g‖² &gt; 0, and (ii) E‖G‖^r bounded by the honest gradient's moments for r = 2, 3, 4;
/// plus the bias and variance of G. Intervals are at <see cref="Confidence"/>.
/// </summary>
/// <param name="Draws">R: independent rounds drawn at the point.</param>
/// <param name="Confidence">The intervals' level, e.g. 0.95.</param>
/// <param name="GradientNorm">‖g‖, g the full-batch honest gradient.</param>
/// <param name="NoiseRatio">√d·σ/‖g‖ of the honest minibatch gradients.</param>
/// <param name="Ratio">⟨E[G], g⟩/‖g‖²: 1 for an unbiased rule; (n − 2f)/n for the mean under sign-flip.</param>
/// <param name="Moments">E‖G‖^r against the honest E‖ĝ‖^r, r = 2, 3, 4.</param>
/// <param name="Bias">‖Ḡ − g‖/‖g‖ with Ḡ the mean of the draws (plug-in; inflated by the noise, see <see cref="BiasResolution"/>).</param>
/// <param name="DebiasedBias">‖E[G] − g‖/‖g‖ from the unbiased estimate of ‖E[G] − g‖² (pairs of distinct draws), with a bootstrap interval.</param>
/// <param name="BiasResolution">√(tr Cov(G)/R)/‖g‖: the plug-in bias that noise alone produces.</param>
/// <param name="Variance">tr Cov(G)/‖g‖².</param>
/// <param name="VarianceRatio">tr Cov(G) over that of the plain mean without attack at the same draws (paired bootstrap interval), or null without a baseline.</param>
public sealed record ResilienceReport(
    int Draws,
    double Confidence,
    double GradientNorm,
    double NoiseRatio,
    Interval Ratio,
    IReadOnlyList<MomentComparison> Moments,
    double Bias,
    Interval DebiasedBias,
    double BiasResolution,
    double Variance,
    Interval? VarianceRatio)
{
    /// <summary>Whether the angle condition holds for some α &lt; π/2 at this confidence: the interval's lower end of <see cref="Ratio"/> is above 0.</summary>
    public bool Holds => Ratio.Low > 0;

    /// <summary>The implied α in degrees, arcsin(1 − ratio) (0 when the ratio is ≥ 1), or null when the ratio is ≤ 0 (no α &lt; 90° works).</summary>
    public double? AlphaDegrees => Alpha(Ratio.Estimate);

    /// <summary>The largest α the interval allows, arcsin(1 − lower end), or null when the lower end is ≤ 0.</summary>
    public double? AlphaUpperDegrees => Alpha(Ratio.Low);

    /// <summary>
    /// sin α / (√d·σ/‖g‖): the rule's η(n, f) in Blanchard et al.'s sin α = η(n, f)·√d·σ/‖g‖ (Krum's proposition
    /// gives a bound on it), or null when α is undefined.
    /// </summary>
    public double? ImpliedEta => AlphaDegrees is { } a && NoiseRatio > 0 ? Math.Sin(a * Math.PI / 180) / NoiseRatio : null;

    /// <summary>
    /// The α of the ball condition ‖E[G] − g‖ ≤ sin α·‖g‖ (the form Krum's proof establishes, which implies the angle
    /// condition), in degrees: arcsin of the upper end of <see cref="DebiasedBias"/>, or null when that end is ≥ 1. Unlike
    /// the angle condition it also sees bias orthogonal to g, which ALIE and min-max produce.
    /// </summary>
    public double? BallAlphaDegrees => DebiasedBias.High < 1 ? Math.Asin(Math.Max(0, DebiasedBias.High)) * 180 / Math.PI : null;

    private static double? Alpha(double ratio) => ratio <= 0 || double.IsNaN(ratio) ? null : Math.Asin(Math.Clamp(1 - ratio, 0, 1)) * 180 / Math.PI;
}

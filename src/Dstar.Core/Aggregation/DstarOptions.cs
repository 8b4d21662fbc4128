namespace Dstar.Core.Aggregation;

/// <summary>Where dSTAR takes the centre m that deviations are measured from.</summary>
public enum DstarCenter
{
    /// <summary>m = coordinate-wise median of the worker rows and g₀ (the paper's reading; needs g₀).</summary>
    Median,

    /// <summary>m = coordinate-wise median of the means of random buckets of worker rows (g₀ not among them).</summary>
    MedianOfMeans,

    /// <summary>m = coordinate-wise median of the worker rows only.</summary>
    ExcludeValidation,

    /// <summary>m = g₀ itself (needs g₀; δ₀ is then 0, so the reference must come from the workers).</summary>
    Validation,
}

/// <summary>What dSTAR compares each deviation with.</summary>
public enum DstarReference
{
    /// <summary>δ_ref = δ₀·√batch-ratio, the validation gradient's own deviation (the paper's reading; needs g₀).</summary>
    Validation,

    /// <summary>δ_ref = the median of the worker deviations δ₁…δₙ.</summary>
    MedianDeviation,

    /// <summary>δ_ref = the q-quantile of the worker deviations (linear interpolation; q = 0.5 is the median).</summary>
    Quantile,
}

/// <summary>What dSTAR's scale check does with a row whose norm exceeds ρ·‖g₀‖·√batch-ratio.</summary>
public enum DstarScaleMode
{
    /// <summary>The row is dropped before the centre is taken.</summary>
    Drop,

    /// <summary>The row stays in the filter as it is and enters the mean scaled down to the bound.</summary>
    Clip,
}

/// <summary>How dSTAR averages the kept set.</summary>
public enum DstarMean
{
    /// <summary>G = the plain mean of the kept rows (the paper's reading).</summary>
    Plain,

    /// <summary>
    /// G = g₀ + (1/|S|) Σ_{i∈S} min(1, r/‖gᵢ − g₀‖)·(gᵢ − g₀) with r the median of ‖gᵢ − g₀‖ over S: centered clipping
    /// (Karimireddy, He, Jaggi 2021) around the trusted gradient, one step.
    /// </summary>
    Clipped,
}

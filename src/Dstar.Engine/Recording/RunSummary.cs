namespace Dstar.Engine.Recording;

/// <summary>The contents of summary.json. Ratios with an empty denominator are null.</summary>
/// <param name="Name">The run name.</param>
/// <param name="FinalAccuracy">Test accuracy at the last evaluation (null when never evaluated).</param>
/// <param name="BestAccuracy">The best test accuracy of any evaluation.</param>
/// <param name="FinalTestLoss">Test loss at the last evaluation.</param>
/// <param name="Rounds">Rounds completed.</param>
/// <param name="VirtualSeconds">Total transport time.</param>
/// <param name="WallSeconds">Wall-clock seconds (not deterministic).</param>
/// <param name="MeanRoundVirtualSeconds">VirtualSeconds / Rounds.</param>
/// <param name="FilterPrecision">Of the accepted gradients the rule left out, the Byzantine fraction.</param>
/// <param name="FilterRecall">Of the accepted Byzantine gradients, the fraction the rule left out.</param>
/// <param name="ByzantineKeptFraction">Of all kept gradients, the Byzantine fraction.</param>
/// <param name="ByzantineKept">Byzantine gradients kept, summed over rounds.</param>
/// <param name="ByzantineAccepted">Byzantine gradients accepted by the collector, summed over rounds.</param>
/// <param name="Drops">Collector drops by reason, summed over rounds.</param>
/// <param name="StoppedAtRound">The round at which the run could not go on (a diverging run), or null when it finished.</param>
/// <param name="StopReason">Why it stopped, or null.</param>
public sealed record RunSummary(
    string Name,
    double? FinalAccuracy,
    double? BestAccuracy,
    double? FinalTestLoss,
    long Rounds,
    double VirtualSeconds,
    double WallSeconds,
    double MeanRoundVirtualSeconds,
    double? FilterPrecision,
    double? FilterRecall,
    double? ByzantineKeptFraction,
    long ByzantineKept,
    long ByzantineAccepted,
    IReadOnlyDictionary<string, long> Drops,
    long? StoppedAtRound = null,
    string? StopReason = null);

using System.Globalization;
using Dstar.Engine.Configuration;

namespace Dstar.Cluster.Server;

/// <summary>
/// How many connected workers a cluster round needs to close: k, or with a <c>deadline</c> k_min (the round then
/// closes at the deadline with the gradients in). Says why rounds wait when workers leave, instead of a silent stall.
/// </summary>
internal sealed record RoundQuorum(int K, double? Deadline, int KMin)
{
    /// <summary>The quorum of <paramref name="config"/>; null with <c>k: auto</c>, whose k moves from round to round.</summary>
    public static RoundQuorum? Of(ExperimentConfig config) =>
        config.AutoK ? null : new RoundQuorum(config.K, config.Deadline, config.KMin ?? Dstar.Engine.Collection.RoundCollector.DefaultMinimumCount(config.K));

    /// <summary>What rounds do with only <paramref name="connected"/> of <paramref name="workers"/> connected; null when they close as usual.</summary>
    public string? ShortHanded(int connected, int workers)
    {
        if (connected >= K)
        {
            return null;
        }

        var count = string.Create(CultureInfo.InvariantCulture, $"{connected} of {workers} workers connected");
        if (Deadline is { } deadline)
        {
            return connected >= KMin
                ? string.Create(CultureInfo.InvariantCulture, $"{count}, fewer than k = {K}: each round now waits for its deadline ({deadline} s) and closes with the gradients in")
                : string.Create(CultureInfo.InvariantCulture, $"{count}, fewer than k_min = {KMin}: no round can close until more workers join");
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{count}, fewer than k = {K}: no round can close until more workers join (a deadline with k_min lets rounds close with fewer)");
    }
}

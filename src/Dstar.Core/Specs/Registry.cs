using Dstar.Core.Aggregation;
using Dstar.Core.Attacks;
using Dstar.Core.PreAggregation;
using Dstar.Core.Stragglers;

namespace Dstar.Core.Specs;

/// <summary>
/// The one place that builds rules, pre-aggregators, attacks and delay models from text specs
/// (<c>krum f=3</c>, <c>pareto xm=1 alpha=1.5</c>). Configs and the command line both go through it.
/// </summary>
public static class Registry
{
    /// <summary>Every aggregation rule.</summary>
    public static Catalog<IAggregator> Rules { get; } = new("rule", RuleCatalog.Entries);

    /// <summary>Every pre-aggregator.</summary>
    public static Catalog<IPreAggregator> PreAggregators { get; } = new("pre-aggregator", PreAggregatorCatalog.Entries);

    /// <summary>Every attack.</summary>
    public static Catalog<IAttack> Attacks { get; } = new("attack", AttackCatalog.Entries);

    /// <summary>Every delay (straggler) model.</summary>
    public static Catalog<IDelayModel> Delays { get; } = new("delay model", DelayCatalog.Entries);

    /// <summary>Builds a pipeline from a rule spec and pre-aggregator specs (applied in the order given).</summary>
    public static AggregationPipeline Pipeline(string rule, IEnumerable<string>? pre = null) =>
        new(Rules.Create(rule), (pre ?? Array.Empty<string>()).Select(spec => PreAggregators.Create(spec)).ToArray());
}

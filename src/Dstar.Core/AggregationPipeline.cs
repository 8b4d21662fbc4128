namespace Dstar.Core;

/// <summary>Pre-aggregators chained in order, then one rule.</summary>
public sealed class AggregationPipeline
{
    /// <summary>Creates the chain <paramref name="preAggregators"/>… → <paramref name="rule"/>.</summary>
    public AggregationPipeline(IAggregator rule, IReadOnlyList<IPreAggregator>? preAggregators = null)
    {
        Rule = rule ?? throw new ArgumentNullException(nameof(rule));
        PreAggregators = preAggregators ?? Array.Empty<IPreAggregator>();
        Name = string.Join(" → ", PreAggregators.Select(p => p.Name).Append(Rule.Name));
    }

    /// <summary>The final rule.</summary>
    public IAggregator Rule { get; }

    /// <summary>The pre-aggregators, applied first to last.</summary>
    public IReadOnlyList<IPreAggregator> PreAggregators { get; }

    /// <summary>A readable name such as <c>nnm → krum</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// Runs the chain. Pre-aggregators may change the batch in place (NNM, clipping) or return their own buffers;
    /// pass a copy when the caller still needs the input.
    /// </summary>
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        var current = batch;
        foreach (var pre in PreAggregators)
        {
            current = pre.Apply(current, context);
        }

        return Rule.Aggregate(current, context, output);
    }
}

namespace Dstar.Core;

/// <summary>A robust aggregation rule: n gradients → one.</summary>
public interface IAggregator
{
    /// <summary>The registry name, e.g. <c>krum</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Why the rule cannot run on n rows with f Byzantine and (or without) a validation gradient; null when it can.
    /// f is the run's (the context's); a rule whose spec gives its own f (<c>krum f=3</c>) checks that one instead,
    /// as <see cref="Aggregate"/> will use it. The message names the rule, the values it got and what it needs (for
    /// example "krum needs n ≥ 2f+3 = 9, got n = 7").
    /// </summary>
    string? CheckRequirements(int n, int f, bool hasValidationGradient);

    /// <summary>Aggregates the batch's rows into <paramref name="output"/> (length d); the batch is read, never changed.</summary>
    /// <exception cref="AggregationException">the requirements do not hold, or the input cannot be aggregated safely.</exception>
    AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output);
}

/// <summary>Questions about a rule's requirements that callers ask in more than one place.</summary>
public static class AggregatorRequirements
{
    /// <summary>
    /// The rule's own refusal when the one thing it lacks on n rows with f Byzantine is the server's validation gradient
    /// g₀ (it would run with one); null when it needs no g₀, or is refused for something else too. Callers add the
    /// option or key that supplies g₀.
    /// </summary>
    public static string? MissingValidationGradient(this IAggregator rule, int n, int f)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return rule.CheckRequirements(n, f, hasValidationGradient: false) is { } why && rule.CheckRequirements(n, f, hasValidationGradient: true) is null
            ? why
            : null;
    }
}

/// <summary>A transform applied before a rule (NNM, bucketing, clipping, ARC): batch → batch.</summary>
public interface IPreAggregator
{
    /// <summary>The registry name, e.g. <c>nnm</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Returns the transformed batch. It may be the input itself (changed in place) or a buffer the pre-aggregator owns
    /// and reuses across calls; callers must not keep it past the next call.
    /// </summary>
    GradientBatch Apply(GradientBatch batch, AggregationContext context);
}

/// <summary>A rule or pre-aggregator refused its input; the message names the rule and what was wrong.</summary>
public sealed class AggregationException(string message) : Exception(message);

namespace Dstar.Core.Kernels;

/// <summary>The argument checks every rule makes before touching the batch, with messages that name the rule.</summary>
internal static class RuleChecks
{
    /// <summary>Throws <see cref="AggregationException"/> when the rule's requirements fail or the output has the wrong length.</summary>
    public static void Ensure(IAggregator rule, GradientBatch batch, AggregationContext context, Span<float> output, int? f = null)
    {
        if (rule.CheckRequirements(batch.Count, f ?? context.ByzantineCount, context.ValidationGradient is not null) is { } why)
        {
            throw new AggregationException(why);
        }

        if (output.Length != batch.Dimension)
        {
            throw new AggregationException($"{rule.Name}: output has {output.Length} values, expected d = {batch.Dimension}");
        }
    }

    /// <summary>Re-checks the requirements after non-finite rows were dropped, naming how many were dropped.</summary>
    public static void EnsureAfterDropping(IAggregator rule, int finiteRows, int dropped, int f, bool hasValidationGradient)
    {
        if (rule.CheckRequirements(finiteRows, f, hasValidationGradient) is { } why)
        {
            throw new AggregationException($"{why} (after dropping {dropped} non-finite rows)");
        }
    }
}

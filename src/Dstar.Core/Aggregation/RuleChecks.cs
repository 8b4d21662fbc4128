namespace Dstar.Core.Aggregation;

/// <summary>The checks every rule makes before it aggregates, written once so the messages read the same.</summary>
internal static class RuleChecks
{
    /// <summary>Throws when the output is not d long.</summary>
    public static void Output(string rule, GradientBatch batch, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (output.Length != batch.Dimension)
        {
            throw new AggregationException($"{rule}: output has {output.Length} values, expected d = {batch.Dimension}");
        }
    }

    /// <summary>f from the spec when given, else the context's Byzantine count.</summary>
    public static int ByzantineCount(int? fromSpec, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return fromSpec ?? context.ByzantineCount;
    }

    /// <summary>Throws when a requirement fails on the whole batch.</summary>
    public static void Requirement(string? why)
    {
        if (why is not null)
        {
            throw new AggregationException(why);
        }
    }

    /// <summary>Throws when a requirement that held on n rows fails on the m finite ones.</summary>
    public static void RequirementOnFinite(string? why, int n, int finite)
    {
        if (why is not null)
        {
            throw new AggregationException($"{why} after dropping {n - finite} of {n} rows holding NaN or ±∞");
        }
    }


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

namespace Dstar.Core.Aggregation;

/// <summary>The checks every rule makes before it aggregates, written once so the messages read the same.</summary>
internal static class RuleRequirements
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
}

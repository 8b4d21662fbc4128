namespace Dstar.Core;

/// <summary>
/// The checks every rule and pre-aggregator makes before it touches a batch, written once so that every refusal reads
/// the same way: the component's name, what it needs, and the values it got, for example
/// "krum needs n ≥ 2f+3 = 13, got n = 10 (f = 5)".
/// </summary>
/// <remarks>
/// A component words its requirement with <see cref="AtLeast(string, int, string, int, int)"/> (or one of its
/// overloads) inside its own <c>CheckRequirements</c>, so the message the CLI shows before a run and the one
/// <see cref="AggregationException"/> carries during it are the same text.
/// </remarks>
internal static class RuleRequirements
{
    /// <summary>Null when n ≥ <paramref name="needed"/>, else "<c>rule needs n ≥ needed, got n = …</c>".</summary>
    public static string? AtLeast(string rule, int n, int needed) =>
        n >= needed ? null : $"{rule} needs n ≥ {needed}, got n = {n}";

    /// <summary>
    /// Null when n ≥ <paramref name="needed"/>, else "<c>rule needs n ≥ formula = needed, got n = … (f = …)</c>"; the
    /// formula is in terms of f (for example <c>2f+3</c>).
    /// </summary>
    public static string? AtLeast(string rule, int n, string formula, int needed, int f) =>
        AtLeast(rule, n, formula, needed, "f", f);

    /// <summary>
    /// Null when n ≥ <paramref name="needed"/>, else "<c>rule needs n ≥ formula = needed, got n = … (parameter = value)</c>",
    /// for a requirement written in terms of another parameter (Zeno's b, Multi-Krum's m).
    /// </summary>
    public static string? AtLeast(string rule, int n, string formula, int needed, string parameter, int value) =>
        n >= needed ? null : $"{rule} needs n ≥ {formula} = {needed}, got n = {n} ({parameter} = {value})";

    /// <summary>"<c>rule needs what, got none</c>", for an input the context did not provide.</summary>
    public static string Missing(string rule, string what) => $"{rule} needs {what}, got none";

    /// <summary>Returns <paramref name="byzantineCount"/> (a spec's own f, or null) after checking it is not negative.</summary>
    /// <exception cref="ArgumentOutOfRangeException">byzantineCount is negative.</exception>
    public static int? ValidByzantineCount(string rule, int? byzantineCount) =>
        byzantineCount < 0
            ? throw new ArgumentOutOfRangeException(nameof(byzantineCount), $"{rule}: f must be ≥ 0, got {byzantineCount}")
            : byzantineCount;

    /// <summary>f from the spec when given, else the context's Byzantine count.</summary>
    public static int ByzantineCount(int? fromSpec, AggregationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return fromSpec ?? context.ByzantineCount;
    }

    /// <summary>Throws <see cref="AggregationException"/> when the output is not d long.</summary>
    public static void Output(string rule, GradientBatch batch, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (output.Length != batch.Dimension)
        {
            throw new AggregationException($"{rule}: output has {output.Length} values, expected d = {batch.Dimension}");
        }
    }

    /// <summary>
    /// Throws <see cref="AggregationException"/> when the output is not d long or the rule's requirements fail on the
    /// whole batch with <paramref name="f"/> Byzantine rows.
    /// </summary>
    public static void Ensure(IAggregator rule, GradientBatch batch, AggregationContext context, Span<float> output, int f)
    {
        Output(rule.Name, batch, output);
        Ensure(rule.CheckRequirements(batch.Count, f, context.ValidationGradient is not null));
    }

    /// <summary>Throws <see cref="AggregationException"/> with <paramref name="why"/> when a requirement failed.</summary>
    public static void Ensure(string? why)
    {
        if (why is not null)
        {
            throw new AggregationException(why);
        }
    }

    /// <summary>Throws when a requirement that held on the n rows fails on the <paramref name="finite"/> finite ones.</summary>
    public static void EnsureOnFinite(string? why, int n, int finite)
    {
        if (why is not null)
        {
            throw new AggregationException($"{why} after dropping {n - finite} of {n} rows holding NaN or ±∞");
        }
    }
}

namespace Dstar.Core.Attacks;

/// <summary>The shape checks every attack makes before it crafts, and the row fill most attacks end with.</summary>
internal static class AttackChecks
{
    /// <summary>Throws unless the batches share d and, when <paramref name="needsHonest"/>, there is an honest row.</summary>
    public static void Shapes(string attack, GradientBatch honest, GradientBatch byzantine, bool needsHonest)
    {
        ArgumentNullException.ThrowIfNull(honest);
        ArgumentNullException.ThrowIfNull(byzantine);
        if (honest.Dimension != byzantine.Dimension)
        {
            throw new AttackException($"{attack}: honest rows have d = {honest.Dimension} but Byzantine rows have d = {byzantine.Dimension}");
        }

        if (needsHonest && honest.Count == 0)
        {
            throw new AttackException($"{attack} reads the honest gradients of the round and needs at least one, got none");
        }
    }

    /// <summary>Copies <paramref name="row"/> into every row of <paramref name="byzantine"/>.</summary>
    public static void FillRows(GradientBatch byzantine, ReadOnlySpan<float> row)
    {
        for (int i = 0; i < byzantine.Count; i++)
        {
            row.CopyTo(byzantine.Row(i));
        }
    }
}

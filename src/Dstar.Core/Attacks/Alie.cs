using System.Numerics.Tensors;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// A Little Is Enough (Baruch, Baruch &amp; Goldberg, NeurIPS 2019, §3): b = μ − z·σ, with μ, σ the coordinate-wise
/// mean and (population) standard deviation of the honest rows. By default z comes from the paper:
/// s = ⌊n/2 + 1⌋ − f workers must be swayed, and z = Φ⁻¹((n − s)/n) (n = 20, f = 8 gives z ≈ 1.036).
/// Spec: <c>alie [z=]</c>; an explicit finite z overrides the formula.
/// </summary>
/// <remarks>
/// n and f are <see cref="AttackContext.WorkerCount"/> and <see cref="AttackContext.ByzantineCount"/>. The formula
/// needs 0 &lt; (n − s)/n &lt; 1, that is 1 ≤ s ≤ n − 1; otherwise (for example f &gt; n/2) the attack throws
/// <see cref="AttackException"/> and asks for an explicit z. Omniscient; needs at least one honest row.
/// Cost O(2·h·d). Not thread-safe: keeps scratch μ and σ.
/// </remarks>
public sealed class Alie : IAttack
{
    private float[]? _mean;
    private float[]? _deviation;
    private float[]? _scratch;

    /// <summary>Creates the attack; <paramref name="z"/> null means the paper's z from n and f.</summary>
    /// <exception cref="ArgumentException">z is not finite.</exception>
    public Alie(double? z = null)
    {
        Z = z is { } value ? ParameterChecks.Finite("alie", "z", value) : null;
    }

    /// <summary>The fixed z, or null for the paper's formula.</summary>
    public double? Z { get; }

    /// <inheritdoc />
    public string Name => "alie";

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <summary>The paper's z = Φ⁻¹((n − s)/n) with s = ⌊n/2 + 1⌋ − f.</summary>
    /// <exception cref="AttackException">s is outside 1..n−1, so z would be infinite.</exception>
    public static double PaperZ(int workerCount, int byzantineCount)
    {
        int swayed = workerCount / 2 + 1 - byzantineCount;
        if (swayed < 1 || swayed > workerCount - 1)
        {
            throw new AttackException(
                $"alie: with n = {workerCount} and f = {byzantineCount}, s = ⌊n/2+1⌋ − f = {swayed} is outside 1..n−1, so z = Φ⁻¹((n−s)/n) is infinite; give z= explicitly");
        }

        return StandardNormal.Quantile((double)(workerCount - swayed) / workerCount);
    }

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        ArgumentNullException.ThrowIfNull(context);
        double z = Z ?? PaperZ(context.WorkerCount, context.ByzantineCount);
        int d = honest.Dimension;
        var mean = Scratch.Exactly(ref _mean, d);
        var deviation = Scratch.Exactly(ref _deviation, d);
        ColumnStatistics.MeanAndStandardDeviation(honest, mean, deviation, Scratch.Exactly(ref _scratch, d));
        Write(mean, deviation, z, mean);
        AttackChecks.FillRows(byzantine, mean);
    }

    /// <summary>b = μ − zσ into <paramref name="output"/> (may alias μ).</summary>
    internal static void Write(ReadOnlySpan<float> mean, ReadOnlySpan<float> deviation, double z, Span<float> output) =>
        TensorPrimitives.MultiplyAdd(deviation, (float)-z, mean, output);
}

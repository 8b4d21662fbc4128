using System.Numerics.Tensors;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// Relocated orthogonal perturbation (ROP; Özfatura, Özfatura, Küpçü, Gündüz, "Byzantines Can Also Learn From History:
/// Fall of Centered Clipping in Federated Learning", IEEE TIFS 2024, arXiv 2208.09894), our reading in gradient form:
/// the reference is relocated to r = λ·v + (1 − λ)·μ, with v the server's previous aggregate (the point centered
/// clipping starts from; μ in the first round), and every Byzantine row sends b = r + γ·p̂ with p̂ the unit vector along
/// the part of −σ orthogonal to r, γ = scale·median ‖xᵢ − r‖ over the honest rows. Orthogonal to the reference, it moves
/// a clipped aggregate sideways by the full clip budget without being shortened by the clip.
/// Spec: <c>rop [lambda=0.9] [scale=1]</c>, 0 ≤ λ ≤ 1, scale &gt; 0.
/// </summary>
/// <remarks>
/// Omniscient: reads the honest rows and the previous aggregate (<see cref="AttackContext.AggregationContext"/>). When
/// −σ is parallel to r (or zero), p̂ is the part of a coordinate basis vector orthogonal to r. Any n, f; needs one honest
/// row. Cost O(h·d). Not thread-safe.
/// </remarks>
public sealed class Rop : IAttack
{
    private float[]? _mean;
    private float[]? _deviation;
    private float[]? _scratch;
    private float[]? _reference;
    private double[] _distances = [];

    /// <summary>Creates the attack.</summary>
    /// <exception cref="ArgumentException">λ outside [0, 1] or scale not positive.</exception>
    public Rop(double lambda = 0.9, double scale = 1)
    {
        Lambda = ParameterChecks.InRange("rop", "lambda", lambda, 0, 1);
        Scale = ParameterChecks.Positive("rop", "scale", scale);
    }

    /// <summary>λ: weight of the previous aggregate in the relocated reference.</summary>
    public double Lambda { get; }

    /// <summary>γ in units of the median honest distance to the reference.</summary>
    public double Scale { get; }

    /// <inheritdoc />
    public string Name => "rop";

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        ArgumentNullException.ThrowIfNull(context);
        int d = honest.Dimension, h = honest.Count;
        var mean = Scratch.Exactly(ref _mean, d);
        var direction = Scratch.Exactly(ref _deviation, d);
        var scratch = Scratch.Exactly(ref _scratch, d);
        var reference = Scratch.Exactly(ref _reference, d);
        ColumnStatistics.MeanAndStandardDeviation(honest, mean, direction, scratch);
        TensorPrimitives.Negate(direction, direction);
        var previous = context.AggregationContext?.PreviousAggregate;
        if (previous is not null && previous.Length == d)
        {
            TensorPrimitives.Multiply(mean, (float)(1 - Lambda), reference);
            TensorPrimitives.MultiplyAdd(previous, (float)Lambda, reference, reference);
        }
        else
        {
            mean.CopyTo(reference, 0);
        }

        if (!Orthogonalize(direction, reference))
        {
            // −σ has nothing orthogonal to r: fall back on the basis vector along r's smallest entry.
            direction.AsSpan().Clear();
            direction[TensorPrimitives.IndexOfMinMagnitude(reference)] = 1;
            Orthogonalize(direction, reference);
        }

        if (_distances.Length < h)
        {
            _distances = new double[h];
        }

        for (int i = 0; i < h; i++)
        {
            _distances[i] = TensorPrimitives.Distance<float>(honest.Row(i), reference);
        }

        var distances = _distances.AsSpan(0, h);
        distances.Sort();
        double median = h % 2 == 1 ? distances[h / 2] : 0.5 * (distances[h / 2 - 1] + distances[h / 2]);
        TensorPrimitives.MultiplyAdd(direction, (float)(Scale * median), reference, scratch);
        AttackChecks.FillRows(byzantine, scratch);
    }

    // p ← (p − (p·r̂)r̂)/‖…‖; false when nothing is left.
    private static bool Orthogonalize(float[] p, float[] r)
    {
        double rr = TensorPrimitives.Dot<float>(r, r);
        if (rr > 0)
        {
            TensorPrimitives.MultiplyAdd(r, (float)(-TensorPrimitives.Dot<float>(p, r) / rr), p, p);
        }

        float norm = TensorPrimitives.Norm<float>(p);
        if (!(norm > 0) || !float.IsFinite(norm))
        {
            return false;
        }

        TensorPrimitives.Divide(p, norm, p);
        return true;
    }
}

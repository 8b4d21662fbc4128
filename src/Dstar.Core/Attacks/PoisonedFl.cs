using System.Numerics.Tensors;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>
/// A PoisonedFL-style attack (Xie, Fang, Jia, Gong, "Model Poisoning Attacks to Federated Learning via Multi-Round
/// Consistency", CVPR 2025 / arXiv 2404.15611): every Byzantine row keeps one direction across rounds. A random sign
/// vector s ∈ {−1, +1}^d is drawn once (from the first round's seeded source) and each round b = −λₜ·s ⊙ |μ| (the model
/// moves by −η·b, that is along s), so b has the honest mean's magnitude profile, scaled by λₜ, and a sign pattern that
/// never changes: small per round, consistent over many. λ adapts as in the paper: every
/// <c>window</c> rounds, when the server's previous aggregate agrees with s on at most half of the coordinates (the
/// attack did not move the model its way), λ ← λ·<c>decay</c>, never below <c>lambda</c>·0.01.
/// Spec: <c>poisoned-fl [lambda=2] [window=10] [decay=0.7]</c>.
/// </summary>
/// <remarks>
/// Omniscient (reads the honest mean) and stateful: s and λ persist across rounds, so one instance serves one run.
/// Reads the previous aggregate from <see cref="AttackContext.AggregationContext"/> when there is one. Any n, f.
/// Cost O((h + f)·d). Not thread-safe.
/// </remarks>
public sealed class PoisonedFl : IAttack
{
    private float[]? _signs;
    private float[]? _mean;
    private int _round;
    private int _agreeing;
    private int _checked;

    /// <summary>Creates the attack.</summary>
    /// <exception cref="ArgumentException">λ not positive, window &lt; 1 or decay outside (0, 1].</exception>
    public PoisonedFl(double lambda = 2, int window = 10, double decay = 0.7)
    {
        Lambda = ParameterChecks.Positive("poisoned-fl", "lambda", lambda);
        Window = ParameterChecks.AtLeast("poisoned-fl", "window", window, 1);
        Decay = ParameterChecks.InRange("poisoned-fl", "decay", decay, 1e-9, 1);
        Scale = Lambda;
    }

    /// <summary>λ₀, the initial scale.</summary>
    public double Lambda { get; }

    /// <summary>Rounds between two adaptations of λ.</summary>
    public int Window { get; }

    /// <summary>Factor applied to λ when the attack did not take hold.</summary>
    public double Decay { get; }

    /// <summary>λₜ, the current scale.</summary>
    public double Scale { get; private set; }

    /// <summary>The fixed sign vector s (null before the first round).</summary>
    public ReadOnlySpan<float> Signs => _signs;

    /// <inheritdoc />
    public string Name => "poisoned-fl";

    /// <inheritdoc />
    public bool IsOmniscient => true;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: true);
        ArgumentNullException.ThrowIfNull(context);
        int d = honest.Dimension;
        if (_signs is null || _signs.Length != d)
        {
            _signs = new float[d];
            for (int j = 0; j < d; j++)
            {
                _signs[j] = context.Random.Next(2) == 0 ? -1f : 1f;
            }
        }

        if (context.AggregationContext?.PreviousAggregate is { } previous && previous.Length == d)
        {
            int agree = 0;
            for (int j = 0; j < d; j++)
            {
                // The model moves by −η·aggregate: the attack took hold where −aggregate has the sign of s.
                agree += -previous[j] * _signs[j] > 0 ? 1 : 0;
            }

            _agreeing += 2 * agree > d ? 1 : 0;
            _checked++;
        }

        if (++_round % Window == 0 && _checked > 0)
        {
            if (2 * _agreeing <= _checked)
            {
                Scale = Math.Max(Scale * Decay, Lambda * 0.01);
            }

            _agreeing = _checked = 0;
        }

        var mean = Scratch.Exactly(ref _mean, d);
        ColumnStatistics.Mean(honest, mean);
        TensorPrimitives.Abs(mean, mean);
        TensorPrimitives.Multiply(mean, _signs, mean);
        TensorPrimitives.Multiply(mean, (float)-Scale, mean);
        AttackChecks.FillRows(byzantine, mean);
    }
}

using Dstar.Core.Specs;

namespace Dstar.Core.Stragglers;

/// <summary>
/// Shifted exponential response time, the usual straggler model of coded and first-k distributed computing
/// (Lee et al., "Speeding up distributed machine learning using codes", IEEE Trans. Inf. Theory 2018):
/// Tᵢ = sᵢ · (a + Exp(λ)), mean sᵢ·(a + 1/λ), with sᵢ worker i's time multiplier (its "speed" factor: 2 means twice
/// as slow). Spec: <c>shifted-exp [shift=1] [rate=1] [speeds=]</c>; shift a ≥ 0 (a = 0 is the plain exponential),
/// rate λ &gt; 0, speeds an optional comma list of factors &gt; 0 indexed by worker (else every sᵢ = 1).
/// </summary>
/// <remarks>One uniform draw per sample (inverse transform −ln(U)/λ). A worker beyond the speeds list is an error.</remarks>
public sealed class ShiftedExponential : IDelayModel
{
    private readonly double[] _speeds;

    /// <summary>Creates the model.</summary>
    /// <exception cref="ArgumentException">shift is negative, rate not positive, or a speed factor not positive (all must be finite).</exception>
    public ShiftedExponential(double shift = 1, double rate = 1, IReadOnlyList<double>? speeds = null)
    {
        Shift = ParameterChecks.NonNegative(Name, "shift", shift);
        Rate = ParameterChecks.Positive(Name, "rate", rate);
        _speeds = (speeds ?? Array.Empty<double>()).ToArray();
        foreach (var speed in _speeds)
        {
            ParameterChecks.Positive(Name, "speeds", speed);
        }
    }

    /// <summary>a, the minimum time.</summary>
    public double Shift { get; }

    /// <summary>λ, the rate of the exponential part (its mean is 1/λ).</summary>
    public double Rate { get; }

    /// <summary>Per-worker time multipliers; empty means 1 for every worker.</summary>
    public IReadOnlyList<double> Speeds => _speeds;

    /// <inheritdoc />
    public string Name => "shifted-exp";

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">worker or round negative, or the worker has no entry in a non-empty speeds list.</exception>
    public double Sample(int worker, int round, Random random)
    {
        DelayChecks.Sample(Name, worker, round, random);
        double factor = 1;
        if (_speeds.Length > 0)
        {
            if (worker >= _speeds.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(worker), worker, $"{Name}: speeds lists {_speeds.Length} workers, worker {worker} has no factor");
            }

            factor = _speeds[worker];
        }

        return factor * (Shift - Math.Log(DelayChecks.OpenUniform(random)) / Rate);
    }
}

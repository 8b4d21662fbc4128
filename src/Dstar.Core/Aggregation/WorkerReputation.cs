namespace Dstar.Core.Aggregation;

/// <summary>
/// A decaying per-worker score from filter outcomes: each round a worker is aggregated, its score becomes
/// s ← λ·s + (1 − λ)·[kept] (starting at 1). A worker whose score falls below θ is excluded for <see cref="Probation"/>
/// rounds: its rows are not aggregated and, when the engine asks <see cref="Excludes"/>, its gradients do not count
/// towards k. After probation it is readmitted with s = θ, on the edge: one more drop excludes it again, a kept row
/// starts its recovery. So a persistent offender spends most rounds excluded, and an honest worker misjudged for a while
/// (slow, or with unusual data) is never excluded for good.
/// </summary>
/// <remarks>
/// Workers that do not answer in a round are not scored (slowness is not an offence). The engine keeps at most N − k
/// excluded workers out of a round (so that it can always fill); the rows of any others reach the rule, which leaves
/// them out of the centre and the mean. State: O(N) doubles and counters, grown on demand; <see cref="Capture"/> and
/// <see cref="Restore"/> carry it through a checkpoint. Not thread-safe.
/// </remarks>
public sealed class WorkerReputation
{
    private double[] _scores = [];
    private int[] _excludedUntil = [];
    private long _round;

    /// <summary>Creates the score keeper.</summary>
    /// <exception cref="ArgumentOutOfRangeException">decay outside (0, 1), threshold outside [0, 1), probation &lt; 1.</exception>
    public WorkerReputation(double decay, double threshold, int probation)
    {
        if (!(decay > 0 && decay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(decay), $"dstar: reputation must be in (0, 1), got {decay}");
        }

        if (!(threshold >= 0 && threshold < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), $"dstar: exclude must be in [0, 1), got {threshold}");
        }

        if (probation < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(probation), $"dstar: probation must be ≥ 1, got {probation}");
        }

        Decay = decay;
        Threshold = threshold;
        Probation = probation;
    }

    /// <summary>λ: weight of the old score.</summary>
    public double Decay { get; }

    /// <summary>θ: a score below it excludes the worker.</summary>
    public double Threshold { get; }

    /// <summary>Rounds an excluded worker stays out.</summary>
    public int Probation { get; }

    /// <summary>How many workers are excluded now.</summary>
    public int ExcludedCount
    {
        get
        {
            int count = 0;
            for (int w = 0; w < _excludedUntil.Length; w++)
            {
                count += _excludedUntil[w] > _round ? 1 : 0;
            }

            return count;
        }
    }

    /// <summary>Worker <paramref name="worker"/>'s score (1 for a worker never scored).</summary>
    public double Score(int worker) => worker < _scores.Length ? _scores[worker] : 1;

    /// <summary>Whether <paramref name="worker"/> is excluded in the current round.</summary>
    public bool Excludes(int worker) => worker >= 0 && worker < _excludedUntil.Length && _excludedUntil[worker] > _round;

    /// <summary>Scores one aggregated row of <paramref name="worker"/>; excludes it when its score fell below θ.</summary>
    public void Record(int worker, bool kept)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(worker);
        Grow(worker + 1);
        _scores[worker] = (Decay * _scores[worker]) + ((1 - Decay) * (kept ? 1 : 0));
        if (_scores[worker] < Threshold && !Excludes(worker))
        {
            // Excluded from the next round on, for Probation rounds; readmitted on the edge.
            _excludedUntil[worker] = (int)Math.Min(int.MaxValue, _round + 1 + Probation);
            _scores[worker] = Threshold;
        }
    }

    /// <summary>Ends the round: exclusions count down.</summary>
    public void EndRound() => _round++;

    /// <summary>A copy of the state: rounds ended, and per worker scored so far its score and exclusion end.</summary>
    public ReputationState Capture() => new(_round, _scores.ToArray(), _excludedUntil.ToArray());

    /// <summary>Replaces the state with <paramref name="state"/> (a <see cref="Capture"/>).</summary>
    /// <exception cref="ArgumentException">the arrays differ in length, the round is negative, a score is not in [0, 1] or an exclusion end is negative; nothing is changed.</exception>
    public void Restore(ReputationState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Round < 0 || state.Scores.Length != state.ExcludedUntil.Length)
        {
            throw new ArgumentException($"reputation state: round {state.Round}, {state.Scores.Length} scores and {state.ExcludedUntil.Length} exclusion ends (they must match)", nameof(state));
        }

        for (int w = 0; w < state.Scores.Length; w++)
        {
            if (!(state.Scores[w] >= 0 && state.Scores[w] <= 1) || state.ExcludedUntil[w] < 0)
            {
                throw new ArgumentException($"reputation state: worker {w} has score {state.Scores[w]} and exclusion end {state.ExcludedUntil[w]}; scores are in [0, 1], ends ≥ 0", nameof(state));
            }
        }

        _round = state.Round;
        _scores = state.Scores.ToArray();
        _excludedUntil = state.ExcludedUntil.ToArray();
    }

    private void Grow(int count)
    {
        if (_scores.Length >= count)
        {
            return;
        }

        int size = Math.Max(count, 2 * _scores.Length);
        int old = _scores.Length;
        Array.Resize(ref _scores, size);
        Array.Resize(ref _excludedUntil, size);
        _scores.AsSpan(old).Fill(1);
    }
}

/// <summary>A <see cref="WorkerReputation"/>'s state, for a checkpoint.</summary>
/// <param name="Round">Rounds ended.</param>
/// <param name="Scores">Per worker (index = id), its score; workers past the end were never scored (score 1).</param>
/// <param name="ExcludedUntil">Per worker, the round its exclusion ends (excluded while it is above <paramref name="Round"/>).</param>
public sealed record ReputationState(long Round, double[] Scores, int[] ExcludedUntil);

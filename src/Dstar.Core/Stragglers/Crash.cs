using Dstar.Core.Specs;

namespace Dstar.Core.Stragglers;

/// <summary>
/// Crash failures: the listed workers stop answering from round r on (their time is +∞), and every other worker, and
/// the listed ones before round r, answer as a base model says.
/// Spec: <c>crash round=R workers=I,J,… [base=NAME[:key=value…]]</c>, for example
/// <c>crash round=10 workers=0,3 base=shifted-exp:shift=2:rate=0.5</c>. The base spec is written with ':' in place of
/// the spaces of a spec, so it stays one token; it defaults to <c>shifted-exp</c>. round ≥ 0; workers non-empty.
/// (So a base value cannot itself hold ':'; a trace path with a drive letter cannot be wrapped this way.)
/// </summary>
/// <remarks>
/// The base model is sampled even for a crashed worker, and the time discarded, so the random stream, and hence every
/// other worker's time, is the same as in the run without crashes.
/// </remarks>
public sealed class Crash : IDelayModel
{
    private readonly HashSet<int> _workers;

    /// <summary>Creates the model.</summary>
    /// <exception cref="ArgumentException">round is negative, workers is empty or holds a negative index.</exception>
    public Crash(int round, IEnumerable<int> workers, IDelayModel baseModel)
    {
        ArgumentNullException.ThrowIfNull(workers);
        Round = ParameterChecks.AtLeast(Name, "round", round, 0);
        _workers = new HashSet<int>(workers);
        if (_workers.Count == 0)
        {
            throw ParameterChecks.Fail(Name, "workers", "(empty)", "at least one worker index");
        }

        foreach (var worker in _workers)
        {
            ParameterChecks.AtLeast(Name, "workers", worker, 0);
        }

        Base = baseModel ?? throw new ArgumentNullException(nameof(baseModel));
    }

    /// <summary>r, the first round the crashed workers miss.</summary>
    public int Round { get; }

    /// <summary>The workers that crash.</summary>
    public IReadOnlySet<int> Workers => _workers;

    /// <summary>The model of every answer that does arrive.</summary>
    public IDelayModel Base { get; }

    /// <inheritdoc />
    public string Name => "crash";

    /// <inheritdoc />
    public double Sample(int worker, int round, Random random)
    {
        DelayChecks.Sample(Name, worker, round, random);
        double time = Base.Sample(worker, round, random);
        return round >= Round && _workers.Contains(worker) ? double.PositiveInfinity : time;
    }
}

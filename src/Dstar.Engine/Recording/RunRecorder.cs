using Dstar.Engine.Collection;
using Dstar.Engine.Server;

namespace Dstar.Engine.Recording;

/// <summary>
/// Turns the parameter server's <see cref="RoundEvent"/>s into <see cref="RoundRecord"/>s (running times, Byzantine
/// counts), keeps the totals for the summary, and fans every record out to its sinks. On resume it is fed the rows
/// already on disk first, so the totals and plots cover the whole run.
/// </summary>
public sealed class RunRecorder
{
    private readonly IReadOnlyList<IRunSink> _sinks;
    private readonly bool[] _byzantine;
    private double _wallTime;
    private readonly Dictionary<string, long> _drops = new(StringComparer.Ordinal);
    private double _virtualTime;
    private double _wallOffset;
    private long _rounds;
    private double? _finalAccuracy;
    private double? _bestAccuracy;
    private double? _finalTestLoss;
    private long _truePositives;
    private long _falsePositives;
    private long _byzantineKept;
    private long _byzantineAccepted;
    private long _keptTotal;
    private long _keptExactByzantineAccepted;
    private long? _stoppedAt;
    private string? _stopReason;

    /// <summary>Creates a recorder for <paramref name="info"/> writing to <paramref name="sinks"/>.</summary>
    public RunRecorder(RunInfo info, IEnumerable<IRunSink> sinks)
    {
        Info = info ?? throw new ArgumentNullException(nameof(info));
        _sinks = sinks.ToArray();
        _byzantine = new bool[info.WorkerCount];
        foreach (var w in info.Byzantine)
        {
            _byzantine[w] = true;
        }

        foreach (var reason in Enum.GetValues<DropReason>())
        {
            _drops[reason.Name()] = 0;
        }
    }

    /// <summary>The run.</summary>
    public RunInfo Info { get; }

    /// <summary>Seconds of transport time so far.</summary>
    public double VirtualTime => _virtualTime;

    /// <summary>Starts the sinks at <paramref name="firstRound"/>, after replaying <paramref name="replayed"/> (rows already written).</summary>
    public void Start(long firstRound, IReadOnlyList<RoundRecord>? replayed = null)
    {
        replayed ??= Array.Empty<RoundRecord>();
        foreach (var record in replayed)
        {
            Accumulate(record);
        }

        _wallOffset = replayed.Count > 0 ? replayed[^1].WallTime : 0;
        foreach (var sink in _sinks)
        {
            sink.Start(Info, firstRound, replayed);
        }
    }

    /// <summary>Records one round; <paramref name="wallSecondsSinceStart"/> is this process's wall time since it (re)started the run.</summary>
    public RoundRecord Record(RoundEvent e, double wallSecondsSinceStart)
    {
        ArgumentNullException.ThrowIfNull(e);
        int byzantineAccepted = CountByzantine(e.AcceptedWorkers);
        int byzantineKept = CountByzantine(e.KeptWorkers);
        var dropped = new (int Worker, DropReason Reason)[e.Drops.Count];
        for (int i = 0; i < dropped.Length; i++)
        {
            dropped[i] = (e.Drops[i].Worker, e.Drops[i].Reason);
        }

        var record = new RoundRecord(
            e.Round,
            _virtualTime + e.RoundSeconds,
            e.RoundSeconds,
            _wallOffset + wallSecondsSinceStart,
            e.ValidationLoss,
            e.Evaluation?.Accuracy is { } a && !double.IsNaN(a) ? a : null,
            e.Evaluation?.Loss,
            e.AcceptedWorkers,
            e.KeptWorkers,
            e.FilteredWorkers,
            dropped,
            byzantineAccepted,
            byzantineKept,
            e.AggregateNorm,
            e.KeptIsExact,
            e.K,
            e.KReason,
            e.Timing);
        Accumulate(record);
        foreach (var sink in _sinks)
        {
            sink.Record(record);
        }

        return record;
    }

    /// <summary>The summary of every round so far.</summary>
    public RunSummary Summary() => new(
        Info.Name,
        _finalAccuracy,
        _bestAccuracy,
        _finalTestLoss,
        _rounds,
        _virtualTime,
        _wallTime,
        _rounds > 0 ? _virtualTime / _rounds : 0,
        _truePositives + _falsePositives > 0 ? (double)_truePositives / (_truePositives + _falsePositives) : null,
        _keptExactByzantineAccepted > 0 ? (double)_truePositives / _keptExactByzantineAccepted : null,
        _keptTotal > 0 ? (double)_byzantineKept / _keptTotal : null,
        _byzantineKept,
        _byzantineAccepted,
        new Dictionary<string, long>(_drops),
        _stoppedAt,
        _stopReason);

    /// <summary>
    /// Marks the run as stopped at <paramref name="round"/> for <paramref name="reason"/> (it could not go on, for
    /// example because the model diverged); <paramref name="evaluation"/> of the last parameters becomes the final accuracy.
    /// </summary>
    public void Stop(long round, string reason, Learning.Evaluation? evaluation)
    {
        _stoppedAt = round;
        _stopReason = reason;
        if (evaluation is { } e)
        {
            if (!double.IsNaN(e.Accuracy))
            {
                _finalAccuracy = e.Accuracy;
                _bestAccuracy = Math.Max(_bestAccuracy ?? double.NegativeInfinity, e.Accuracy);
            }

            _finalTestLoss = e.Loss;
        }
    }

    /// <summary>Ends the run: every sink gets the summary.</summary>
    public RunSummary Finish()
    {
        var summary = Summary();
        foreach (var sink in _sinks)
        {
            sink.Finish(summary);
        }

        return summary;
    }

    private bool IsByzantine(int worker) => (uint)worker < (uint)_byzantine.Length && _byzantine[worker];

    // A loop rather than LINQ's Count(predicate): no delegate or enumerator per round.
    private int CountByzantine(IReadOnlyList<int> workers)
    {
        int count = 0;
        for (int i = 0; i < workers.Count; i++)
        {
            if (IsByzantine(workers[i]))
            {
                count++;
            }
        }

        return count;
    }

    private void Accumulate(RoundRecord r)
    {
        _wallTime = r.WallTime;
        _rounds++;
        _virtualTime = r.VirtualTime;
        if (r.Accuracy is { } accuracy)
        {
            _finalAccuracy = accuracy;
            _bestAccuracy = Math.Max(_bestAccuracy ?? double.NegativeInfinity, accuracy);
        }

        if (r.TestLoss is { } loss)
        {
            _finalTestLoss = loss;
        }

        _byzantineKept += r.ByzantineKept;
        _byzantineAccepted += r.ByzantineAccepted;
        _keptTotal += r.Kept.Count;
        if (r.KeptIsExact)
        {
            int byzantineFiltered = CountByzantine(r.Filtered);
            _truePositives += byzantineFiltered;
            _falsePositives += r.Filtered.Count - byzantineFiltered;
            _keptExactByzantineAccepted += r.ByzantineAccepted;
        }

        foreach (var (_, reason) in r.Dropped)
        {
            _drops[reason.Name()]++;
        }
    }
}

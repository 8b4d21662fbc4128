using Dstar.Engine.Recording;

namespace Dstar.View.Board;

/// <summary>
/// One run on the board, and the sink that feeds it: hand it to the run driver with the other sinks. Each call keeps
/// the record (records are immutable) and offers an update to every browser without waiting for any
/// (<see cref="ViewBoard"/>), so a round never waits for the view.
/// </summary>
public sealed class ViewRun : IRunSink
{
    private readonly ViewBoard _board;
    private readonly object _gate = new();
    private readonly List<RoundRecord> _records = new();
    private RunInfo? _info;
    private RunSummary? _summary;
    private RunState _state = RunState.Waiting;
    private string? _problem;
    private RoundRecord? _lastEvaluated;

    internal ViewRun(ViewBoard board, int id, string name)
    {
        _board = board;
        Id = id;
        Name = name;
    }

    /// <summary>The run's number on this board (0, 1, …), its address in the endpoints.</summary>
    public int Id { get; }

    /// <summary>The name given when it was added (the run's own name replaces it once it starts).</summary>
    public string Name { get; private set; }

    /// <inheritdoc />
    public void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed)
    {
        ArgumentNullException.ThrowIfNull(info);
        lock (_gate)
        {
            _info = info;
            Name = info.Name;
            _records.Clear();
            _records.AddRange(replayed);
            _lastEvaluated = LastEvaluated(replayed);
            _summary = null;
            _problem = null;
            _state = RunState.Running;
        }

        _board.Publish(new ViewUpdate(this, null));
    }

    /// <inheritdoc />
    public void Record(RoundRecord record)
    {
        lock (_gate)
        {
            _records.Add(record);
            if (IsEvaluated(record))
            {
                _lastEvaluated = record;
            }
        }

        _board.Publish(new ViewUpdate(this, record));
    }

    /// <inheritdoc />
    public void Finish(RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        lock (_gate)
        {
            _summary = summary;
            _state = summary.StoppedAtRound is null ? RunState.Finished : RunState.Stopped;
        }

        _board.Publish(new ViewUpdate(this, null));
    }

    /// <summary>Marks the run failed (the host caught an error), or a directory that could not be read, with why.</summary>
    public void Fail(string problem)
    {
        lock (_gate)
        {
            _problem = problem;
            _state = RunState.Failed;
        }

        _board.Publish(new ViewUpdate(this, null));
    }

    /// <summary>Replaces everything at once with what was read from a run directory.</summary>
    internal void Load(RunInfo info, IReadOnlyList<RoundRecord> records, RunSummary? summary, RunState state)
    {
        lock (_gate)
        {
            _info = info;
            Name = info.Name;
            _records.Clear();
            _records.AddRange(records);
            _lastEvaluated = LastEvaluated(records);
            _summary = summary;
            _problem = null;
            _state = state;
        }

        _board.Publish(new ViewUpdate(this, null));
    }

    /// <summary>The run as it stands: state, info, summary, round count and last record.</summary>
    public RunSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new RunSnapshot(Id, Name, _state, _info, _summary, _problem, _records.Count,
                _records.Count > 0 ? _records[^1] : null, _lastEvaluated);
        }
    }

    /// <summary>The records from position <paramref name="from"/> on (at most <paramref name="limit"/>), copied.</summary>
    public RoundRecord[] Records(int from = 0, int limit = int.MaxValue)
    {
        lock (_gate)
        {
            from = Math.Clamp(from, 0, _records.Count);
            int count = (int)Math.Min((long)_records.Count - from, limit);
            return count <= 0 ? [] : _records.GetRange(from, count).ToArray();
        }
    }

    private static bool IsEvaluated(RoundRecord r) => r.Accuracy is not null || r.TestLoss is not null;

    private static RoundRecord? LastEvaluated(IReadOnlyList<RoundRecord> records)
    {
        for (int i = records.Count - 1; i >= 0; i--)
        {
            if (IsEvaluated(records[i]))
            {
                return records[i];
            }
        }

        return null;
    }
}

/// <summary>A run at one moment.</summary>
/// <param name="Id">Its number on the board.</param>
/// <param name="Name">Its name.</param>
/// <param name="State">Its state.</param>
/// <param name="Info">What the run said when it started (null while waiting).</param>
/// <param name="Summary">Its summary once finished or stopped.</param>
/// <param name="Problem">Why it failed, or null.</param>
/// <param name="RoundCount">Rounds recorded so far.</param>
/// <param name="Last">The last round recorded, or null.</param>
/// <param name="LastEvaluated">The last round with a test evaluation, or null.</param>
public sealed record RunSnapshot(
    int Id,
    string Name,
    RunState State,
    RunInfo? Info,
    RunSummary? Summary,
    string? Problem,
    int RoundCount,
    RoundRecord? Last,
    RoundRecord? LastEvaluated);

/// <summary>What a browser is told: a run's state changed (<paramref name="Round"/> null) or it recorded a round.</summary>
/// <param name="Run">The run.</param>
/// <param name="Round">The new round, or null for a change of state.</param>
public sealed record ViewUpdate(ViewRun Run, RoundRecord? Round);

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
    private readonly List<RoundPhases?> _phases = new();
    private IRoundPhaseSource? _phaseSource;
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

    /// <summary>
    /// Measures where each round's wall time went with <paramref name="source"/> (asked once per recorded round, on
    /// the run's thread); the parts travel with the round as its <c>phases</c> (docs/view.md).
    /// </summary>
    public ViewRun MeasurePhases(IRoundPhaseSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_gate)
        {
            _phaseSource = source;
        }

        return this;
    }

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
            _phases.Clear();
            _phases.AddRange(new RoundPhases?[replayed.Count]);
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
        RoundPhases? phases;
        lock (_gate)
        {
            phases = _phaseSource?.Next(record, _records.Count > 0 ? _records[^1] : null);
            _records.Add(record);
            _phases.Add(phases);
            if (IsEvaluated(record))
            {
                _lastEvaluated = record;
            }
        }

        _board.Publish(new ViewUpdate(this, record) { Phases = phases });
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

    /// <summary>Sets the state of a run that has no files to read yet (a study's run handed to a worker process, or never started).</summary>
    internal void SetState(RunState state)
    {
        lock (_gate)
        {
            if (_state == state)
            {
                return;
            }

            _state = state;
            if (state != RunState.Failed)
            {
                _problem = null;
            }
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
            _phases.Clear();
            _phases.AddRange(new RoundPhases?[records.Count]);
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

    /// <summary>The measured phases of the records from <paramref name="from"/> on (null where none were measured), as <see cref="Records"/> pages them.</summary>
    public RoundPhases?[] Phases(int from = 0, int limit = int.MaxValue)
    {
        lock (_gate)
        {
            from = Math.Clamp(from, 0, _phases.Count);
            int count = (int)Math.Min((long)_phases.Count - from, limit);
            return count <= 0 ? [] : _phases.GetRange(from, count).ToArray();
        }
    }

    /// <summary>The records and their measured phases from <paramref name="from"/> on, taken together.</summary>
    public (RoundRecord[] Records, RoundPhases?[] Phases) Rows(int from = 0, int limit = int.MaxValue)
    {
        lock (_gate)
        {
            return (Records(from, limit), Phases(from, limit));
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

/// <summary>Which part of the page an update is about.</summary>
public enum ViewPanel
{
    /// <summary>A run: its state changed, or it recorded a round.</summary>
    Run,

    /// <summary>The study: a cell changed (<see cref="ViewUpdate.Cell"/>), or the study itself (its state, its report).</summary>
    Study,

    /// <summary>The cluster: a worker joined or left, or a connection or gradient was refused.</summary>
    Cluster,
}

/// <summary>
/// What a browser is told: a run's state changed (<paramref name="Round"/> null) or it recorded a round; or, with
/// <see cref="Panel"/> study or cluster, that part of the page changed.
/// </summary>
/// <param name="Run">The run (null for the study and cluster panels).</param>
/// <param name="Round">The new round, or null for a change of state.</param>
public sealed record ViewUpdate(ViewRun? Run, RoundRecord? Round)
{
    /// <summary>The part of the page.</summary>
    public ViewPanel Panel { get; init; } = ViewPanel.Run;

    /// <summary>For the study: the cell that changed (its index in plan order), or −1 for the study as a whole.</summary>
    public int Cell { get; init; } = -1;

    /// <summary>For a round: where its wall time went, when measured.</summary>
    public RoundPhases? Phases { get; init; }
}

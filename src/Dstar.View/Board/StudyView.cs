using System.Text.Json;
using Dstar.Studies.Definition;
using Dstar.Studies.Report;
using Dstar.View.Directories;
using SweepRunState = Dstar.Studies.Sweep.RunState;

namespace Dstar.View.Board;

/// <summary>Where one run of a study (a cell with one seed) stands, as the study's grid shows it.</summary>
public enum StudyRunState
{
    /// <summary>Not started: no files yet, and no sweep of this process has handed it out.</summary>
    Pending,

    /// <summary>A worker process of this process's sweep is running it.</summary>
    Running,

    /// <summary>Its summary.json is whole (it reached its last round, or stopped early with a reason).</summary>
    Finished,

    /// <summary>It failed: the sweep said so, or its directory holds error.txt, or its files are damaged.</summary>
    Failed,

    /// <summary>It has rows but no summary, and no sweep of this process runs it: interrupted, or another process writes it.</summary>
    Incomplete,
}

/// <summary>
/// A study on the board: its grid of cells (plan.json's order), each cell's runs (one per seed) with their state and
/// final accuracy, and the report once DIR/report/report.json exists. Fed two ways that give the same picture: by a
/// sweep of this process (<see cref="StudyProgress"/>: runs started, finished, failed, as they happen), and by the
/// study's files (<see cref="Refresh"/>: summary.json, error.txt, metrics.jsonl of each run directory; the report).
/// Each run is also a <see cref="ViewRun"/> on the board, named <c>CELL/seed-S</c>, whose rounds are read from its
/// run directory. Thread safe; every change is offered to the browsers without waiting for any.
/// </summary>
public sealed class StudyView
{
    private readonly ViewBoard _board;
    private readonly object _gate = new();
    private readonly CellEntry[] _cells;
    private readonly Dictionary<(string Cell, int Seed), (int Cell, int Seed)> _index = new();
    private bool _sweeping;
    private bool _stopped;
    private StudyReportView? _report;
    private (DateTime Time, long Length) _reportStamp;

    internal StudyView(ViewBoard board, StudyIndex plan, string directory)
    {
        _board = board;
        Plan = plan ?? throw new ArgumentNullException(nameof(plan));
        Directory = Path.GetFullPath(directory);
        _cells = new CellEntry[plan.Cells.Count];
        for (int c = 0; c < plan.Cells.Count; c++)
        {
            var cell = plan.Cells[c];
            var seeds = new SeedEntry[cell.Seeds.Count];
            for (int s = 0; s < seeds.Length; s++)
            {
                int seed = cell.Seeds[s];
                var name = cell.Name + "/seed-" + seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
                seeds[s] = new SeedEntry(seed, name, Path.Combine(Directory, cell.RunDirectory(seed)), board.Add(name));
                _index[(cell.Name, seed)] = (c, s);
            }

            _cells[c] = new CellEntry(cell, seeds);
        }
    }

    /// <summary>plan.json: the study's name, varying keys and cells.</summary>
    public StudyIndex Plan { get; }

    /// <summary>The study's output directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>A sweep of this process starts on the study.</summary>
    public void SweepStarted()
    {
        lock (_gate)
        {
            _sweeping = true;
            _stopped = false;
        }

        PublishStudy();
    }

    /// <summary>The sweep of this process ended (<paramref name="cancelled"/>: stopped before the end); the files are read once more.</summary>
    public void SweepEnded(bool cancelled)
    {
        lock (_gate)
        {
            _sweeping = false;
            _stopped = cancelled;
            foreach (var seed in _cells.SelectMany(c => c.Seeds).Where(s => s.State == StudyRunState.Running))
            {
                seed.State = StudyRunState.Incomplete;
            }
        }

        Reread(force: true);
    }

    /// <summary>The sweep handed run (<paramref name="cell"/>, <paramref name="seed"/>) to a worker process.</summary>
    public void RunStarted(string cell, int seed) => Update(cell, seed, entry =>
    {
        entry.State = StudyRunState.Running;
        entry.Error = null;
        entry.Accuracy = null;
        Read(entry, force: true, running: true);
    });

    /// <summary>The run finished: its files are read for its final accuracy and rounds.</summary>
    public void RunFinished(string cell, int seed) => Update(cell, seed, entry =>
    {
        entry.State = StudyRunState.Finished;
        Read(entry, force: true, running: false);
        if (entry.State != StudyRunState.Finished && entry.State != StudyRunState.Failed)
        {
            entry.State = StudyRunState.Finished; // the sweep's word stands; the files may still be settling
        }
    });

    /// <summary>The run failed with <paramref name="error"/>.</summary>
    public void RunFailed(string cell, int seed, string error) => Update(cell, seed, entry =>
    {
        Read(entry, force: true, running: false);
        entry.State = StudyRunState.Failed;
        entry.Error = FirstLine(error);
        entry.Run.Fail(entry.Error);
    });

    /// <summary>
    /// Re-reads what changed on disk: each run directory whose files changed (rows, summary, error.txt), and the
    /// report. A sweep of another process fills in this way; so does a finished study shown by <c>dstar view</c>.
    /// </summary>
    public void Refresh() => Reread(force: false);

    /// <summary>Calls <see cref="Refresh"/> every <paramref name="interval"/> until cancelled.</summary>
    public async Task WatchAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Refresh();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The study as it stands: its state, every cell with its runs, counts and the report.</summary>
    public StudySnapshot Snapshot()
    {
        lock (_gate)
        {
            var cells = new StudyCellSnapshot[_cells.Length];
            for (int c = 0; c < cells.Length; c++)
            {
                cells[c] = CellSnapshot(c);
            }

            return new StudySnapshot(Plan, Directory, StateName(), Count(StudyRunState.Pending), Count(StudyRunState.Running),
                Count(StudyRunState.Finished), Count(StudyRunState.Failed), Count(StudyRunState.Incomplete), cells, _report);
        }
    }

    /// <summary>The study's line without its cells (the event stream sends it with the cells that changed).</summary>
    public StudySnapshot Header(IReadOnlyList<int> cells)
    {
        lock (_gate)
        {
            return new StudySnapshot(Plan, Directory, StateName(), Count(StudyRunState.Pending), Count(StudyRunState.Running),
                Count(StudyRunState.Finished), Count(StudyRunState.Failed), Count(StudyRunState.Incomplete),
                cells.Where(c => (uint)c < (uint)_cells.Length).Select(CellSnapshot).ToArray(), _report);
        }
    }

    /// <summary>The full path of report image <paramref name="path"/> (as listed in the report, e.g. <c>heatmap-f.png</c>), or null when the report lists no such image.</summary>
    public string? ReportImage(string path)
    {
        lock (_gate)
        {
            return _report is { } report && report.Images.Contains(path, StringComparer.Ordinal)
                ? Path.Combine(Directory, StudyReport.Folder, path)
                : null;
        }
    }

    private void Reread(bool force)
    {
        var changed = new List<int>();
        bool reportChanged;
        lock (_gate)
        {
            for (int c = 0; c < _cells.Length; c++)
            {
                bool any = false;
                foreach (var seed in _cells[c].Seeds)
                {
                    var before = (seed.State, seed.Accuracy, seed.Error);
                    Read(seed, force, running: seed.State == StudyRunState.Running);
                    any |= before != (seed.State, seed.Accuracy, seed.Error);
                }

                if (any)
                {
                    changed.Add(c);
                }
            }

            reportChanged = ReadReport();
        }

        foreach (var c in changed)
        {
            _board.Publish(new ViewUpdate(null, null) { Panel = ViewPanel.Study, Cell = c });
        }

        if (reportChanged || force)
        {
            PublishStudy();
        }
    }

    // Under _gate. Re-reads the run directory when its files changed, and derives the run's state from them; a run
    // this process's sweep is running stays running until the sweep says otherwise.
    private static void Read(SeedEntry entry, bool force, bool running)
    {
        var stamp = SeedStamp.Of(entry.Directory);
        if (!force && stamp == entry.Stamp)
        {
            return;
        }

        entry.Stamp = stamp;
        if (!System.IO.Directory.Exists(entry.Directory))
        {
            if (!running && entry.State != StudyRunState.Failed)
            {
                entry.State = StudyRunState.Pending;
            }

            entry.Run.SetState(running ? RunState.Running : entry.State == StudyRunState.Failed ? RunState.Failed : RunState.Waiting);
            return;
        }

        RunDirectoryReader.Load(entry.Run, entry.Directory, entry.Name, running);
        var snapshot = entry.Run.Snapshot();
        entry.Accuracy = snapshot.Summary?.FinalAccuracy;
        var error = running ? null : SweepRunState.ReadFailure(entry.Directory);
        entry.State = snapshot.State switch
        {
            RunState.Finished or RunState.Stopped => StudyRunState.Finished,
            RunState.Failed => StudyRunState.Failed,
            _ when error is not null => StudyRunState.Failed,
            RunState.Running => StudyRunState.Running,
            RunState.Incomplete => StudyRunState.Incomplete,
            _ => running ? StudyRunState.Running : StudyRunState.Pending,
        };
        entry.Error = entry.State != StudyRunState.Failed ? null : error is not null ? FirstLine(error) : snapshot.Problem;
        if (error is not null && entry.State == StudyRunState.Failed && snapshot.State != RunState.Failed)
        {
            entry.Run.Fail(entry.Error!);
        }
    }

    // Under _gate. True when report.json changed and was read whole.
    private bool ReadReport()
    {
        var folder = Path.Combine(Directory, StudyReport.Folder);
        var file = new FileInfo(Path.Combine(folder, ReportFiles.JsonName));
        var stamp = file.Exists ? (file.LastWriteTimeUtc, file.Length) : default;
        if (stamp == _reportStamp)
        {
            return false;
        }

        if (!file.Exists)
        {
            _reportStamp = stamp;
            bool had = _report is not null;
            _report = null;
            return had;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file.FullName));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            JsonElement? Part(string name) => root.TryGetProperty(name, out var v) ? v.Clone() : null;
            var images = new List<string>();
            foreach (var (sub, prefix) in new[] { (folder, ""), (Path.Combine(folder, "k"), "k/") })
            {
                if (System.IO.Directory.Exists(sub))
                {
                    images.AddRange(System.IO.Directory.GetFiles(sub, "*.png").Select(p => prefix + Path.GetFileName(p)).Order(StringComparer.Ordinal));
                }
            }

            _report = new StudyReportView(_report is null ? 1 : _report.Version + 1, Part("target_accuracy"), Part("tables"), Part("tuning"), images);
            _reportStamp = stamp;
            return true;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return false; // being written: read it on the next refresh
        }
    }

    private void Update(string cell, int seed, Action<SeedEntry> change)
    {
        int c;
        lock (_gate)
        {
            if (!_index.TryGetValue((cell, seed), out var at))
            {
                return;
            }

            change(_cells[at.Cell].Seeds[at.Seed]);
            c = at.Cell;
        }

        _board.Publish(new ViewUpdate(null, null) { Panel = ViewPanel.Study, Cell = c });
    }

    private void PublishStudy() => _board.Publish(new ViewUpdate(null, null) { Panel = ViewPanel.Study });

    // Under _gate.
    private StudyCellSnapshot CellSnapshot(int c)
    {
        var entry = _cells[c];
        var seeds = entry.Seeds.Select(s => new StudySeedSnapshot(s.Seed, s.State, s.Accuracy, s.Error, s.Run.Id)).ToArray();
        var accuracy = Estimate.Of(entry.Seeds.Where(s => s.State == StudyRunState.Finished).Select(s => s.Accuracy));
        return new StudyCellSnapshot(c, entry.Cell, CellState(seeds), seeds, accuracy);
    }

    private static StudyRunState CellState(IReadOnlyList<StudySeedSnapshot> seeds) =>
        seeds.Any(s => s.State == StudyRunState.Running) ? StudyRunState.Running
        : seeds.Any(s => s.State == StudyRunState.Failed) ? StudyRunState.Failed
        : seeds.All(s => s.State == StudyRunState.Finished) ? StudyRunState.Finished
        : seeds.Any(s => s.State == StudyRunState.Incomplete) ? StudyRunState.Incomplete
        : StudyRunState.Pending;

    // Under _gate.
    private string StateName() =>
        _sweeping ? "running"
        : _stopped ? "stopped"
        : _cells.All(c => c.Seeds.All(s => s.State == StudyRunState.Finished)) ? "finished"
        : "incomplete";

    private int Count(StudyRunState state) => _cells.Sum(c => c.Seeds.Count(s => s.State == state));

    private static string FirstLine(string text)
    {
        var line = text.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
        return line.Length <= 300 ? line : line[..297] + "...";
    }

    private sealed class CellEntry(IndexedCell cell, SeedEntry[] seeds)
    {
        public IndexedCell Cell { get; } = cell;

        public SeedEntry[] Seeds { get; } = seeds;
    }

    private sealed class SeedEntry(int seed, string name, string directory, ViewRun run)
    {
        public int Seed { get; } = seed;

        public string Name { get; } = name;

        public string Directory { get; } = directory;

        public ViewRun Run { get; } = run;

        public StudyRunState State { get; set; } = StudyRunState.Pending;

        public double? Accuracy { get; set; }

        public string? Error { get; set; }

        public SeedStamp Stamp { get; set; }
    }

    /// <summary>A run directory's files as last read: when none changed, it is not read again.</summary>
    private readonly record struct SeedStamp(bool Exists, RunFileStamp Files, DateTime ErrorTime)
    {
        public static SeedStamp Of(string directory) => System.IO.Directory.Exists(directory)
            ? new SeedStamp(true, RunFileStamp.Of(directory), File.GetLastWriteTimeUtc(Path.Combine(directory, SweepRunState.ErrorFileName)))
            : default;
    }
}

/// <summary>The study at one moment.</summary>
/// <param name="Plan">plan.json.</param>
/// <param name="Directory">The study's output directory.</param>
/// <param name="State">"running" (a sweep of this process runs it), "stopped" (that sweep was stopped), "finished" (every run finished) or "incomplete".</param>
/// <param name="Pending">Runs pending.</param>
/// <param name="Running">Runs running.</param>
/// <param name="Finished">Runs finished.</param>
/// <param name="Failed">Runs failed.</param>
/// <param name="Incomplete">Runs with rows but no summary, not running here.</param>
/// <param name="Cells">The cells (all, or those an event carries).</param>
/// <param name="Report">The report, once report.json exists; else null.</param>
public sealed record StudySnapshot(
    StudyIndex Plan,
    string Directory,
    string State,
    int Pending,
    int Running,
    int Finished,
    int Failed,
    int Incomplete,
    IReadOnlyList<StudyCellSnapshot> Cells,
    StudyReportView? Report);

/// <summary>One cell of the grid.</summary>
/// <param name="Index">Its position in plan order.</param>
/// <param name="Cell">Its plan entry: name, keys, rule, attack, scenario, tuned value, seeds.</param>
/// <param name="State">Running if a seed runs; else failed if one failed; finished when all finished; incomplete if one has rows but no summary; else pending.</param>
/// <param name="Seeds">Each seed's run.</param>
/// <param name="FinalAccuracy">Mean ± sample std of the finished seeds' final accuracy (the report's estimate).</param>
public sealed record StudyCellSnapshot(int Index, IndexedCell Cell, StudyRunState State, IReadOnlyList<StudySeedSnapshot> Seeds, Estimate FinalAccuracy);

/// <summary>One run of a cell.</summary>
/// <param name="Seed">The seed.</param>
/// <param name="State">Its state.</param>
/// <param name="FinalAccuracy">Its summary's final accuracy once finished.</param>
/// <param name="Error">Why it failed (first line), or null.</param>
/// <param name="Run">Its run's id on the board (<c>/api/runs/{id}</c>).</param>
public sealed record StudySeedSnapshot(int Seed, StudyRunState State, double? FinalAccuracy, string? Error, int Run);

/// <summary>What the view shows of a study's report: report.json's tables and tuning, and the report's images.</summary>
/// <param name="Version">Counts the report's versions seen (1, 2, …): the page re-reads it when this changes.</param>
/// <param name="TargetAccuracy">report.json's <c>target_accuracy</c>.</param>
/// <param name="Tables">report.json's <c>tables</c> (rule × attack, worst case per rule), as written.</param>
/// <param name="Tuning">report.json's <c>tuning</c>, as written.</param>
/// <param name="Images">The heatmaps and k figures under report/, relative paths (<c>heatmap-f.png</c>, <c>k/01-…png</c>).</param>
public sealed record StudyReportView(int Version, JsonElement? TargetAccuracy, JsonElement? Tables, JsonElement? Tuning, IReadOnlyList<string> Images);

/// <summary>Lower-case names of <see cref="StudyRunState"/> as the endpoints give them.</summary>
public static class StudyRunStateNames
{
    /// <summary>"pending", "running", "finished", "failed" or "incomplete".</summary>
    public static string Name(this StudyRunState state) => state switch
    {
        StudyRunState.Pending => "pending",
        StudyRunState.Running => "running",
        StudyRunState.Finished => "finished",
        StudyRunState.Failed => "failed",
        StudyRunState.Incomplete => "incomplete",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown study run state"),
    };
}

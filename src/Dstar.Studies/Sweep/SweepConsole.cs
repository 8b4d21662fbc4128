using System.Globalization;
using Dstar.Studies.Definition;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Dstar.Studies.Sweep;

/// <summary>
/// The one progress display of a sweep: runs done, running and failed, and an ETA. On an interactive terminal a live
/// Spectre.Console line (<see cref="Live"/>); otherwise a plain line each time a run ends, on the writer given.
/// Failures are always printed in full.
/// </summary>
public sealed class SweepConsole(TextWriter output) : ISweepProgress
{
    private readonly object _lock = new();
    private int _total;
    private int _done;
    private int _running;
    private int _failed;
    private int _parallel = 1;
    private double _runSeconds;
    private int _timed;
    private LiveDisplayContext? _live;

    /// <summary>Runs <paramref name="body"/> with this display shown live on the terminal.</summary>
    public async Task<T> Live<T>(Func<Task<T>> body)
    {
        T result = default!;
        await AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async context =>
        {
            _live = context;
            result = await body().ConfigureAwait(false);
            Refresh();
        }).ConfigureAwait(false);
        _live = null;
        return result;
    }

    /// <inheritdoc />
    public void Begin(int total, int finished, int parallel)
    {
        lock (_lock)
        {
            _total = total;
            _done = finished;
            _parallel = parallel;
            Line($"sweep: {total} runs, {finished} already finished, {parallel} worker process{(parallel == 1 ? "" : "es")}");
        }
    }

    /// <inheritdoc />
    public void WorkerStarted(int processId, double startupSeconds)
    {
        lock (_lock)
        {
            Line(string.Create(CultureInfo.InvariantCulture, $"worker process {processId} ready after {startupSeconds:F1} s"));
        }
    }

    /// <inheritdoc />
    public void RunDamaged(StudyRun run, string problem)
    {
        lock (_lock)
        {
            Line($"{run.Name}: {problem}: it runs again");
        }
    }

    /// <inheritdoc />
    public void RunStarted(StudyRun run, bool resuming)
    {
        lock (_lock)
        {
            _running++;
            if (resuming)
            {
                Line($"resuming {run.Name} from its checkpoint");
            }

            Refresh();
        }
    }

    /// <inheritdoc />
    public void RunFinished(StudyRun run, double seconds)
    {
        lock (_lock)
        {
            _running--;
            _done++;
            _runSeconds += seconds;
            _timed++;
            if (_live is null)
            {
                Line(Status() + string.Create(CultureInfo.InvariantCulture, $" — {run.Name} in {seconds:F1} s"));
            }

            Refresh();
        }
    }

    /// <inheritdoc />
    public void RunFailed(StudyRun run, string error)
    {
        lock (_lock)
        {
            _running--;
            _failed++;
            Line($"FAILED {run.Name}: {error}");
            Refresh();
        }
    }

    /// <inheritdoc />
    public void End(SweepOutcome outcome)
    {
        lock (_lock)
        {
            Refresh();
            Line(string.Create(CultureInfo.InvariantCulture,
                $"sweep {(outcome.Cancelled ? "stopped" : "ended")}: {outcome.Skipped + outcome.Finished} of {outcome.Total} runs finished ({outcome.Skipped} before this sweep), {outcome.Failed} failed; {outcome.WallSeconds:F1} s wall, of which worker start-up {outcome.StartupSeconds:F1} s summed over {outcome.WorkersStarted} process{(outcome.WorkersStarted == 1 ? "" : "es")}"));
        }
    }

    /// <summary>One line: done, running, failed, ETA.</summary>
    public string Status()
    {
        int remaining = _total - _done - _failed;
        string eta = _timed == 0 ? "ETA –" : "ETA " + Duration(remaining * (_runSeconds / _timed) / Math.Max(1, Math.Min(_parallel, Math.Max(1, remaining))));
        return $"{_done}/{_total} done, {_running} running, {_failed} failed, {eta}";
    }

    private static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s" : $"{t.Seconds}s";
    }

    private IRenderable Render() => new Markup(Markup.Escape("sweep: " + Status()));

    private void Refresh() => _live?.UpdateTarget(Render());

    private void Line(string text)
    {
        if (_live is not null)
        {
            AnsiConsole.WriteLine(text);
        }
        else
        {
            output.WriteLine(text);
            output.Flush();
        }
    }
}

using Dstar.Studies.Definition;

namespace Dstar.Studies.Sweep;

/// <summary>What a sweep tells its display. Calls may come from several threads; implementations serialise them.</summary>
public interface ISweepProgress
{
    /// <summary>The sweep starts: <paramref name="total"/> runs, of which <paramref name="finished"/> were already done.</summary>
    void Begin(int total, int finished, int parallel);

    /// <summary>A worker process is ready.</summary>
    void WorkerStarted(int processId, double startupSeconds);

    /// <summary>
    /// A run's summary.json is there but damaged (<paramref name="problem"/> names the file): the run is not counted as
    /// finished, and runs again (from its checkpoint when it has one). Said before the sweep begins.
    /// </summary>
    void RunDamaged(StudyRun run, string problem);

    /// <summary>A run was handed to a worker.</summary>
    void RunStarted(StudyRun run, bool resuming);

    /// <summary>A run finished.</summary>
    void RunFinished(StudyRun run, double seconds);

    /// <summary>A run failed (its error is in its error.txt too).</summary>
    void RunFailed(StudyRun run, string error);

    /// <summary>The sweep ended.</summary>
    void End(SweepOutcome outcome);
}

/// <summary>How a sweep ended.</summary>
/// <param name="Total">Runs in the study.</param>
/// <param name="Skipped">Runs already finished before this sweep.</param>
/// <param name="Finished">Runs finished by this sweep.</param>
/// <param name="Failed">Runs that failed in this sweep.</param>
/// <param name="WallSeconds">The sweep's wall-clock seconds.</param>
/// <param name="StartupSeconds">Summed worker process start-up seconds (process start to ready).</param>
/// <param name="WorkersStarted">Worker processes started (replacements included).</param>
/// <param name="Cancelled">Whether it was stopped before the end.</param>
public sealed record SweepOutcome(int Total, int Skipped, int Finished, int Failed, double WallSeconds, double StartupSeconds, int WorkersStarted, bool Cancelled);

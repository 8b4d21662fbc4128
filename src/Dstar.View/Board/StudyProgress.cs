using Dstar.Studies.Definition;
using Dstar.Studies.Sweep;

namespace Dstar.View.Board;

/// <summary>
/// A sweep's progress for the live view: every event goes to the sweep's own display first (the terminal line), then
/// to the <see cref="StudyView"/> (the grid). The sweep runs its cells in child processes, so this is what tells the
/// view a run started, finished or failed; the rounds and results come from the run directories' files.
/// </summary>
public sealed class StudyProgress(ISweepProgress display, StudyView study) : ISweepProgress
{
    /// <inheritdoc />
    public void Begin(int total, int finished, int parallel)
    {
        display.Begin(total, finished, parallel);
        study.SweepStarted();
    }

    /// <inheritdoc />
    public void WorkerStarted(int processId, double startupSeconds) => display.WorkerStarted(processId, startupSeconds);

    /// <inheritdoc />
    public void RunDamaged(StudyRun run, string problem) => display.RunDamaged(run, problem);

    /// <inheritdoc />
    public void RunStarted(StudyRun run, bool resuming)
    {
        display.RunStarted(run, resuming);
        study.RunStarted(run.Cell.Name, run.Seed);
    }

    /// <inheritdoc />
    public void RunFinished(StudyRun run, double seconds)
    {
        display.RunFinished(run, seconds);
        study.RunFinished(run.Cell.Name, run.Seed);
    }

    /// <inheritdoc />
    public void RunFailed(StudyRun run, string error)
    {
        display.RunFailed(run, error);
        study.RunFailed(run.Cell.Name, run.Seed, error);
    }

    /// <inheritdoc />
    public void End(SweepOutcome outcome)
    {
        display.End(outcome);
        study.SweepEnded(outcome.Cancelled);
    }
}

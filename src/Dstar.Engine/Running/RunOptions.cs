using Dstar.Engine.Recording;
using Dstar.Engine.Server;

namespace Dstar.Engine.Running;

/// <summary>How a run treats its run directory .</summary>
public enum RunDirectoryMode
{
    /// <summary>A new run: a directory that already holds a run is refused, so nothing saved is overwritten.</summary>
    New,

    /// <summary>Continue the run in the directory from its checkpoint.</summary>
    Resume,

    /// <summary>A new run; a non-empty directory is first moved aside to <c>DIR.old-TIMESTAMP</c> (never deleted).</summary>
    Overwrite,

    /// <summary>
    /// A new run that rewrites the run files of a directory the host owns (a sweep's run directory of the same config,
    /// redone): the previous run's files are replaced. Not for directories a user names.
    /// </summary>
    Replace,
}

/// <summary>What a <see cref="RunDriver"/> does besides the rounds: where it writes, what it reports to, and the hooks a host needs.</summary>
public sealed record RunOptions
{
    /// <summary>A short run name, shown by progress sinks and written to summary.json.</summary>
    public string Name { get; init; } = "run";

    /// <summary>One line that describes the run (data, model, rule, attack), shown by progress sinks.</summary>
    public string Description { get; init; } = "";

    /// <summary>
    /// The run directory: config.yaml, metrics.jsonl, metrics.csv, summary.json, the plots, state.json and
    /// checkpoint.bin go there. Null writes nothing (and allows no resume).
    /// </summary>
    public string? Directory { get; init; }

    /// <summary>Where checkpoint.bin goes when not in <see cref="Directory"/> (the cluster's --checkpoint-dir); null: the run directory.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Where checkpoint.bin goes: <see cref="CheckpointDirectory"/>, else <see cref="Directory"/>; null without either (none is written).</summary>
    public string? CheckpointPath =>
        (CheckpointDirectory ?? Directory) is { } folder ? Path.Combine(folder, Dstar.Engine.Checkpoints.CheckpointFile.FileName) : null;

    /// <summary>New (the default), resume, overwrite or replace.</summary>
    public RunDirectoryMode Mode { get; init; } = RunDirectoryMode.New;

    /// <summary>Whether to write the PNG plots when the run ends.</summary>
    public bool Plots { get; init; } = true;

    /// <summary>Extra sinks (console progress, a live view, a study's collector), given every round after the run's own files.</summary>
    public IReadOnlyList<IRunSink> Sinks { get; init; } = [];

    /// <summary>
    /// Ends the run once this many rounds are done, as a killed process would: no final checkpoint, summary or plots,
    /// and state.json still says running. For tests of resume; null for none.
    /// </summary>
    public long? StopAfterRound { get; init; }

    /// <summary>
    /// Awaited once before the first round (the cluster waits for its workers here); the run's wall clock starts
    /// after it. Not called when no round remains (a resume at the last round). Cancellation while waiting interrupts
    /// the run.
    /// </summary>
    public Func<CancellationToken, Task>? BeforeFirstRoundAsync { get; init; }

    /// <summary>
    /// State the host's components keep between rounds, saved in every checkpoint and restored on resume besides the
    /// server's own (<see cref="Checkpoints.CheckpointParts.Of(ParameterServer)"/>, which the driver adds): the
    /// simulator's worker momenta.
    /// </summary>
    public IReadOnlyList<Checkpoints.ICheckpointPart> CheckpointParts { get; init; } = [];

    /// <summary>Called with t before round t starts (the simulator starts its timing here).</summary>
    public Action<long>? BeforeRound { get; init; }

    /// <summary>
    /// Called after each completed round, once it is recorded and, when due, checkpointed (the cluster tells the
    /// workers their outcome here). Not called for a round that could not complete.
    /// </summary>
    public Action<RoundEvent>? AfterRound { get; init; }
}

/// <summary>How a run ended.</summary>
public enum RunEnd
{
    /// <summary>
    /// It reached its last round, or stopped early because a round could not complete (a rule refusing its input, a
    /// diverged model): the summary says which (<see cref="RunSummary.StoppedAtRound"/>).
    /// </summary>
    Finished,

    /// <summary>Cancelled between or during rounds: the last completed round is checkpointed; no summary.</summary>
    Interrupted,

    /// <summary>Stopped by <see cref="RunOptions.StopAfterRound"/>, as if killed: nothing more was written.</summary>
    Halted,
}

/// <summary>The outcome of <see cref="RunDriver.RunAsync"/>.</summary>
/// <param name="End">How the run ended.</param>
/// <param name="Rounds">Rounds completed (the server's version t when it ended).</param>
/// <param name="Summary">The summary (also in summary.json) when <see cref="RunEnd.Finished"/>, else null.</param>
public sealed record RunResult(RunEnd End, long Rounds, RunSummary? Summary);

namespace Dstar.View.Board;

/// <summary>Where a run is in its life, as the view shows it.</summary>
public enum RunState
{
    /// <summary>Announced (for example the demo's later runs, a study cell not yet started); no round yet.</summary>
    Waiting,

    /// <summary>Started; rounds are arriving.</summary>
    Running,

    /// <summary>Reached its last round and wrote its summary.</summary>
    Finished,

    /// <summary>Ended early with a reason (a round that could not complete).</summary>
    Stopped,

    /// <summary>A directory with rounds but no summary: the run was interrupted, or is still being written by another process.</summary>
    Incomplete,

    /// <summary>The host gave up on it (an error), or its files could not be read; the run's <c>Problem</c> says why.</summary>
    Failed,
}

/// <summary>Lower-case names of <see cref="RunState"/> as the JSON endpoints give them.</summary>
public static class RunStateNames
{
    /// <summary>"waiting", "running", "finished", "stopped", "incomplete" or "failed".</summary>
    public static string Name(this RunState state) => state switch
    {
        RunState.Waiting => "waiting",
        RunState.Running => "running",
        RunState.Finished => "finished",
        RunState.Stopped => "stopped",
        RunState.Incomplete => "incomplete",
        RunState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown run state"),
    };
}

using Dstar.Cluster.Server;
using Dstar.Cluster.Worker;

namespace Dstar.Cli.Failures;

/// <summary>
/// The one table from what went wrong to the process's exit code, the same for every command (docs/commands.md).
/// <see cref="CommandRunner"/> maps each failure to a <see cref="FailureKind"/> and the kind to its code.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>The run started but could not finish (a rule refused its input, the machine ran out of memory, an internal error).</summary>
    public const int RunFailed = 1;

    /// <summary>Bad options or configuration, refused before anything ran (includes a server certificate the worker does not trust).</summary>
    public const int Usage = 2;

    /// <summary>A file could not be read or written, or its contents are malformed (config too, when the file itself is unreadable).</summary>
    public const int Data = 3;

    /// <summary>The server refused the worker's join (its key, its id, or a config that differs from the server's).</summary>
    public const int Refused = ClusterWorker.RefusedExitCode;

    /// <summary>The worker gave up after <c>--retry-seconds</c> without reaching the server.</summary>
    public const int Unreachable = ClusterWorker.UnreachableExitCode;

    /// <summary>Stopped by Ctrl+C (SIGINT): 128 + 2.</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM after saving a checkpoint: 128 + 15.</summary>
    public const int Terminated = ClusterServer.InterruptedExitCode;

    /// <summary>The exit code of <paramref name="kind"/>.</summary>
    public static int Of(FailureKind kind) => kind switch
    {
        FailureKind.Usage => Usage,
        FailureKind.Data => Data,
        FailureKind.Refused => Refused,
        FailureKind.Interrupted => Interrupted,
        _ => RunFailed,
    };
}

/// <summary>What kind of failure ended a command; each has one exit code (<see cref="ExitCodes.Of"/>).</summary>
public enum FailureKind
{
    /// <summary>The run could not finish (<see cref="ExitCodes.RunFailed"/>).</summary>
    RunFailed,

    /// <summary>Bad options or configuration (<see cref="ExitCodes.Usage"/>).</summary>
    Usage,

    /// <summary>An unreadable, unwritable or malformed file (<see cref="ExitCodes.Data"/>).</summary>
    Data,

    /// <summary>Refused by the server (<see cref="ExitCodes.Refused"/>).</summary>
    Refused,

    /// <summary>Stopped by the user (<see cref="ExitCodes.Interrupted"/>).</summary>
    Interrupted,

    /// <summary>A bug: the trace goes to a log file (<see cref="ExitCodes.RunFailed"/>).</summary>
    Unexpected,
}

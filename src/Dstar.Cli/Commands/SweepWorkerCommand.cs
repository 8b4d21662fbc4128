using System.CommandLine;
using Dstar.Studies.Sweep;

namespace Dstar.Cli.Commands;

/// <summary>
/// <c>dstar sweep-worker</c> (hidden): a sweep's worker process. Reads run assignments as JSON lines on standard
/// input and reports each result as a JSON line on standard output; anything else it would print goes to standard error.
/// </summary>
public static class SweepWorkerCommand
{
    /// <summary>Builds the hidden <c>sweep-worker</c> command.</summary>
    public static Command Create()
    {
        var command = new Command(WorkerCommand.Subcommand, "A dstar sweep worker process (started by dstar sweep).") { Hidden = true };
        command.SetAction(_ =>
        {
            var reports = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true, NewLine = "\n" };
            Console.SetOut(Console.Error);
            return SweepWorker.Serve(Console.In, reports);
        });
        return command;
    }
}

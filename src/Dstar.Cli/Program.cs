using System.CommandLine;
using Dstar.Cli.Commands;
using Dstar.Cli.Failures;

namespace Dstar.Cli;

/// <summary>The <c>dstar</c> command: parses arguments, builds objects from the layers below, runs them.</summary>
public static class Program
{
    /// <summary>
    /// How long a command has after SIGTERM or Ctrl+C to stop on its own (a server's checkpoint, <c>launch</c> ending its
    /// workers) before System.CommandLine ends the process (its default is 2 s, too short for a large model's
    /// checkpoint). Below Kubernetes' default 30 s grace, so a pod exits before it is killed.
    /// </summary>
    public static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(20);

    /// <summary>Entry point.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Parses and runs <paramref name="args"/> with the given standard output and error (tests call this).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        // Unknown or missing options: System.CommandLine prints the problem and the usage; the exit code is the
        // table's usage error, as for every other bad input (Failures/ExitCodes).
        var parsed = CreateRoot().Parse(args);
        int code = parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = ShutdownGrace });
        return parsed.Errors.Count > 0 ? ExitCodes.Usage : code;
    }

    /// <summary>The command tree (tests parse deployment manifests' arguments with it).</summary>
    internal static RootCommand CreateRoot()
    {
        var root = new RootCommand("dstar: straggler-tolerant, Byzantine-resilient distributed SGD");

        // One line per command; each command lives in its own file under Commands/.
        foreach (var command in Commands())
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    private static IEnumerable<Command> Commands()
    {
        yield return SimulateCommand.Create();
        yield return DemoCommand.Create();
        yield return KeygenCommand.Create();
        yield return ServeCommand.Create();
        yield return WorkCommand.Create();
        yield return LaunchCommand.Create();
        yield return AggregateCommand.Create();
        yield return BenchCommand.Create();
        yield return SweepCommand.Create();
        yield return ReportCommand.Create();
        yield return SweepWorkerCommand.Create();
        yield return ViewCommand.Create();
        yield return ResilienceCommand.Create();
    }
}

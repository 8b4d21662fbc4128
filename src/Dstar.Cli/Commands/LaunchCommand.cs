using System.CommandLine;
using Dstar.Cli.Failures;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Launch;
using Dstar.Cluster.Worker;
using Dstar.Engine.Configuration;

namespace Dstar.Cli.Commands;

/// <summary><c>dstar launch</c>: a whole cluster (a server process and N workers in worker processes) on loopback.</summary>
internal static class LaunchCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "The run's config file.", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a config key: --set k=4 (repeatable).", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string?>("--out") { Description = "Run directory (default runs/cluster-<UTC time>)." };
        var delayScale = new Option<double>("--delay-scale") { Description = "Real seconds per virtual second of the delay model.", DefaultValueFactory = _ => 0.01 };
        var computeMs = new Option<int>("--compute-ms") { Description = "Extra real milliseconds per gradient.", DefaultValueFactory = _ => 0 };
        var overwrite = new Option<bool>("--overwrite") { Description = "Move a --out that holds a run or keys aside to DIR.old-TIMESTAMP (never deleted) instead of refusing it." };
        var perProcess = new Option<string>("--workers-per-process")
        {
            Description = $"How many workers each worker process runs, each still with its own key, connection and session: auto (all N "
                          + $"in one process, which still uses every core) or a count in 1..{ClusterWorker.MaxGroup} (1: every worker a process of its own). "
                          + "Fewer processes take less memory and run rounds faster; a process that dies takes all its workers with it.",
            DefaultValueFactory = _ => "auto",
        };
        var command = new Command("launch", "Start the server and N workers (in one worker process by default) on loopback and train to the end.")
        {
            config, set, output, delayScale, computeMs, overwrite, perProcess,
        };
        var view = new Option<string?>("--view") { Description = "the server serves a live web view of the run and its workers' connections and refusals (default http://127.0.0.1:8090; loopback only here; docs/view.md)", Arity = ArgumentArity.ZeroOrOne };
        command.Options.Add(view);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync("launch", parse.InvocationConfiguration.Error, scope =>
        {
            // The server process serves the view: its --view is passed on (refused there, with the reason, off loopback).
            string[] serverArguments = parse.GetResult(view) is null ? [] : ["--view", parse.GetValue(view) ?? Dstar.View.ViewOptions.DefaultUrl];
            int? workersPerProcess = WorkersPerProcess(parse.GetValue(perProcess)!);
            var experiment = ConfigLoader.LoadFile(parse.GetValue(config), parse.GetValue(set));
            var realTime = new RealTimeOptions { DelayScale = parse.GetValue(delayScale), ComputeMilliseconds = parse.GetValue(computeMs) };
            var directory = parse.GetValue(output) ?? Path.Combine("runs", $"cluster-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            scope.RunDirectory = directory;
            return ClusterLauncher.RunAsync(experiment, realTime, directory, ClusterLauncher.CurrentCommand(), parse.InvocationConfiguration.Output, cancellation, serverArguments, parse.GetValue(overwrite),
                workersPerProcess);
        }));
        return command;
    }

    /// <summary>The count of <c>--workers-per-process</c>, or null for <c>auto</c>.</summary>
    /// <exception cref="CommandFailure">neither <c>auto</c> nor an integer in 1..<see cref="ClusterWorker.MaxGroup"/>.</exception>
    internal static int? WorkersPerProcess(string text) =>
        text == "auto" ? null
        : int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= ClusterWorker.MaxGroup ? count
        : throw new CommandFailure($"--workers-per-process {text}: expected auto or a count from 1 to {ClusterWorker.MaxGroup}");
}

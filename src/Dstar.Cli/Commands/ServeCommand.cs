using System.CommandLine;
using Dstar.Cli.Failures;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Running;
using Dstar.Cluster.Server;

namespace Dstar.Cli.Commands;

/// <summary><c>dstar serve</c>: the parameter server of a gRPC cluster.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "The experiment config (YAML, as for dstar simulate).", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a config key: --set k=4 (repeatable)." };
        var noPlots = new Option<bool>("--no-plots") { Description = "Do not write the PNG plots at the end." };
        var listen = new Option<string>("--listen") { Description = "Listen URL, scheme://HOST:PORT (no path).", DefaultValueFactory = _ => "https://0.0.0.0:7070" };
        var keys = new Option<string>("--authorized-keys") { Description = "One worker per line: '<id> <base64 SubjectPublicKeyInfo>'.", Required = true };
        var cert = new Option<string?>("--tls-cert") { Description = "PEM server certificate." };
        var key = new Option<string?>("--tls-key") { Description = "PEM private key of the certificate." };
        var insecure = new Option<bool>("--insecure") { Description = "Plain-text HTTP/2; refused on any address but loopback." };
        var checkpoints = new Option<string?>("--checkpoint-dir") { Description = "Where checkpoint.bin goes (default: --out): every checkpoint_every rounds, at the end and on SIGTERM." };
        var resume = new Option<bool>("--resume") { Description = "Continue from checkpoint.bin, replaying --out's metrics." };
        var autoResume = new Option<bool>("--auto-resume")
        {
            Description = "Resume when checkpoint.bin exists, else start the run (for a restarted pod); when the checkpoint is at the last round, report the finished run and wait for SIGTERM instead of training again.",
        };
        var output = new Option<string?>("--out") { Description = "Run directory, as dstar simulate writes it (config.yaml, metrics.jsonl/csv, summary.json, plots, metrics.prom)." };
        var metricsListen = new Option<string?>("--metrics-listen") { Description = "Extra plain HTTP/1.1 URL for /metrics and /healthz, http://HOST:PORT (no path)." };
        var json = new Option<bool>("--log-json") { Description = "Structured logs as JSON lines." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Move a --out that holds a run aside to DIR.old-TIMESTAMP (never deleted) instead of refusing it." };
        var command = new Command("serve", "Run the parameter server: authenticated workers over gRPC, first k of N, robust aggregation.")
        {
            config, set, listen, keys, cert, key, insecure, checkpoints, resume, autoResume, output, metricsListen, json, noPlots, overwrite,
        };
        var view = new ViewOptionSet($"serve a live web view of the run, the workers' connections and the refused connections and gradients (default {Dstar.View.ViewOptions.DefaultUrl}; docs/view.md)");
        view.AddTo(command);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync("serve", parse.InvocationConfiguration.Error, async scope =>
        {
            scope.RunDirectory = parse.GetValue(output);
            var experiment = ConfigLoader.LoadFile(parse.GetValue(config), parse.GetValue(set));
            bool resuming = parse.GetValue(resume);
            if (parse.GetValue(autoResume))
            {
                if (resuming)
                {
                    throw new ArgumentException("--auto-resume and --resume: give one (--auto-resume resumes only when a checkpoint exists)");
                }

                var directory = parse.GetValue(checkpoints) ?? parse.GetValue(output)
                    ?? throw new ArgumentException("--auto-resume needs --checkpoint-dir or --out (where checkpoint.bin is looked for)");
                var checkpoint = Path.Combine(directory, CheckpointFile.FileName);
                resuming = File.Exists(checkpoint);
                if (!resuming && parse.GetValue(output) is { } runDirectory && Directory.Exists(runDirectory) && RunDirectory.HoldsRun(runDirectory))
                {
                    // Killed before its first checkpoint: nothing to resume, so start again, but keep what it wrote.
                    // Inside the directory, not beside it: on Kubernetes --out is a volume's mount point.
                    var aside = RunDirectory.SetAsideInside(runDirectory, directory);
                    parse.InvocationConfiguration.Output.WriteLine($"no checkpoint in {directory}: starting the run again; the earlier run's files are in {aside}");
                }
                if (resuming && CheckpointFile.Load(checkpoint).Round >= experiment.Rounds)
                {
                    parse.InvocationConfiguration.Output.WriteLine($"run already finished: {checkpoint} is at round {experiment.Rounds} of {experiment.Rounds}; waiting for SIGTERM");
                    await Task.Delay(Timeout.Infinite, cancellation).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                    return 0;
                }
            }

            // The board holds the run and the cluster panel before the view answers its first request; the view starts
            // once the server's checks have passed (a refused checkpoint prints only its error).
            var viewOptions = view.Read(parse);
            var board = viewOptions is null ? null : new Dstar.View.Board.ViewBoard();
            var viewRun = board?.Add("cluster");
            var clusterView = board?.ShowCluster(experiment.Workers);
            LiveView? live = null;
            var settings = new ServerSettings
            {
                Config = experiment,
                Listen = parse.GetValue(listen)!,
                AuthorizedKeysPath = parse.GetValue(keys)!,
                TlsCertificatePath = parse.GetValue(cert),
                TlsKeyPath = parse.GetValue(key),
                Insecure = parse.GetValue(insecure),
                CheckpointDirectory = parse.GetValue(checkpoints),
                Resume = resuming,
                Overwrite = parse.GetValue(overwrite),
                OutputDirectory = parse.GetValue(output),
                MetricsListen = parse.GetValue(metricsListen),
                JsonLogs = parse.GetValue(json),
                Plots = !parse.GetValue(noPlots),
                ExtraSinks = viewRun is null ? [] : [viewRun],
                Monitor = clusterView is null ? null : new Dstar.Cli.Output.ClusterViewMonitor(clusterView),
                BeforeListeningAsync = viewOptions is null
                    ? null
                    : async token => live = await LiveView.StartAsync(board!, viewOptions, "dstar serve", parse.InvocationConfiguration.Output, token),
            };

            // A refused --view is refused before anything is loaded.
            viewOptions?.Resolve().Certificate?.Dispose();
            foreach (var warning in settings.Validate())
            {
                parse.InvocationConfiguration.Error.WriteLine($"dstar serve: warning: {warning}");
            }

            int exit;
            try
            {
                exit = await ClusterServer.RunAsync(settings, parse.InvocationConfiguration.Output, cancellation).ConfigureAwait(false);

                // A person at the terminal keeps the final state on screen (as simulate and sweep do); a server under a
                // process manager (Kubernetes, launch) has no console and exits at once.
                if (!cancellation.IsCancellationRequested)
                {
                    live?.HoldIfInteractive(parse.InvocationConfiguration.Output);
                }
            }
            finally
            {
                if (live is not null)
                {
                    await live.DisposeAsync().ConfigureAwait(false);
                }
            }

            return exit;
        }));
        return command;
    }
}

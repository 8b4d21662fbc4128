using System.CommandLine;
using Dstar.Cli.Failures;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Observability;
using Dstar.Engine.Configuration;
using Dstar.Cluster.Worker;
using Microsoft.Extensions.Logging;

namespace Dstar.Cli.Commands;

/// <summary><c>dstar work</c>: one worker of a gRPC cluster.</summary>
internal static class WorkCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "The server URL, e.g. https://ps.example:7070.", Required = true };
        var id = new Option<int?>("--id") { Description = $"This worker's id: its data shard and its authorized-keys line (default: ${CompletionIndexVariable}, which a Kubernetes Indexed Job sets)." };
        var key = new Option<string>("--key") { Description = "The worker's PKCS#8 PEM private key (from dstar keygen), or a directory holding worker-<id>.key.", Required = true };
        var config = new Option<string?>("--config") { Description = "The experiment config (data, model, shard, delay model, Byzantine role); defaults if absent." };
        var set = new Option<string[]>("--set") { Description = "Override a config key (repeatable)." };
        var delayScale = new Option<double>("--delay-scale") { Description = "Real seconds per virtual second of the delay model.", DefaultValueFactory = _ => 0.01 };
        var computeMs = new Option<int>("--compute-ms") { Description = "Extra real milliseconds per gradient.", DefaultValueFactory = _ => 0 };
        var ca = new Option<string?>("--ca-cert") { Description = "PEM CA certificate the server's certificate must chain to." };
        var retry = new Option<double>("--retry-seconds") { Description = "Keep reconnecting this long before giving up (0 to one week).", DefaultValueFactory = _ => 60 };
        var json = new Option<bool>("--log-json") { Description = "Structured logs as JSON lines." };
        var command = new Command("work", "Run a worker: join the server with its key, compute gradients on its shard, send them.")
        {
            server, id, key, config, set, delayScale, computeMs, ca, retry, json,
        };
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync("work", parse.InvocationConfiguration.Error, async _ =>
        {
            using var logs = ClusterLogging.Create(parse.GetValue(json));
            int workerId = WorkerId(parse.GetValue(id), Environment.GetEnvironmentVariable(CompletionIndexVariable));
            string keyPath = parse.GetValue(key)!;
            if (Directory.Exists(keyPath))
            {
                keyPath = Path.Combine(keyPath, $"worker-{workerId}.key");
            }

            return await ClusterWorker.RunAsync(new WorkerSettings
            {
                Server = parse.GetValue(server)!,
                WorkerId = workerId,
                KeyPath = keyPath,
                Config = ConfigLoader.LoadFile(parse.GetValue(config), parse.GetValue(set)),
                RealTime = new RealTimeOptions { DelayScale = parse.GetValue(delayScale), ComputeMilliseconds = parse.GetValue(computeMs) },
                CaCertificatePath = parse.GetValue(ca),
                RetryFor = RetryWindow(parse.GetValue(retry)),
            }, logs.CreateLogger("dstar.work"), cancellation).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>The variable a Kubernetes Indexed Job sets to the pod's completion index (0..completions−1).</summary>
    public const string CompletionIndexVariable = "JOB_COMPLETION_INDEX";

    /// <summary>The worker id: <c>--id</c> when given, else the Indexed Job's completion index.</summary>
    /// <exception cref="ArgumentException">neither is given, or the variable is not a non-negative integer.</exception>
    internal static int WorkerId(int? option, string? completionIndex)
    {
        if (option is { } given)
        {
            return given;
        }

        if (string.IsNullOrWhiteSpace(completionIndex))
        {
            throw new ArgumentException($"--id is required (or set {CompletionIndexVariable}, as a Kubernetes Indexed Job does)");
        }

        return int.TryParse(completionIndex, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index)
            ? index
            : throw new ArgumentException($"{CompletionIndexVariable}: '{completionIndex}' is not a worker id (an integer >= 0)");
    }

    // TimeSpan.FromSeconds throws on NaN and overflows on huge values: refuse them in the option's own words.
    private static TimeSpan RetryWindow(double seconds) =>
        double.IsFinite(seconds) && seconds >= 0 && seconds <= WorkerSettings.MaxRetryFor.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw new CommandFailure(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--retry-seconds {seconds}: must be in 0..{WorkerSettings.MaxRetryFor.TotalSeconds} (one week)"));
}

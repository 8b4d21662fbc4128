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
        var server = new Option<string>("--server") { Description = "The server URL, scheme://HOST:PORT (no path), e.g. https://ps.example:7070.", Required = true };
        var id = new Option<int?>("--id") { Description = $"This worker's id: its data shard and its authorized-keys line (default: ${CompletionIndexVariable}, which a Kubernetes Indexed Job sets)." };
        var key = new Option<string>("--key") { Description = "The worker's PKCS#8 PEM private key (from dstar keygen), or a directory holding worker-<id>.key.", Required = true };
        var config = new Option<string?>("--config") { Description = "The experiment config (data, model, shard, delay model, Byzantine role); defaults if absent." };
        var set = new Option<string[]>("--set") { Description = "Override a config key (repeatable)." };
        var delayScale = new Option<double>("--delay-scale") { Description = "Real seconds per virtual second of the delay model.", DefaultValueFactory = _ => 0.01 };
        var computeMs = new Option<int>("--compute-ms") { Description = "Extra real milliseconds per gradient.", DefaultValueFactory = _ => 0 };
        var ca = new Option<string?>("--ca-cert") { Description = "PEM CA certificate the server's certificate must chain to." };
        var retry = new Option<double>("--retry-seconds") { Description = "Keep reconnecting this long before giving up (0 to one week).", DefaultValueFactory = _ => 60 };
        var json = new Option<bool>("--log-json") { Description = "Structured logs as JSON lines." };
        var ids = new Option<string?>("--ids")
        {
            Description = "Run several workers in this one process instead of --id: a list of ids and ranges, e.g. 0-3,6. Each has its own connection and "
                          + "session; they share the data and the runtime. --key must then be a directory holding worker-<id>.key.",
        };
        var command = new Command("work", "Run a worker: join the server with its key, compute gradients on its shard, send them.")
        {
            server, id, ids, key, config, set, delayScale, computeMs, ca, retry, json,
        };
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync("work", parse.InvocationConfiguration.Error, async _ =>
        {
            using var logs = ClusterLogging.Create(parse.GetValue(json));
            string keyPath = parse.GetValue(key)!;
            var group = parse.GetValue(ids) is { } list ? ParseIds(list) : null;
            if (group is not null && parse.GetResult(id) is not null)
            {
                throw new CommandFailure("--id and --ids: give one or the other");
            }

            if (group is not null && !Directory.Exists(keyPath))
            {
                throw new CommandFailure($"--key {keyPath}: with --ids it must be a directory holding worker-<id>.key for each id");
            }

            var experiment = ConfigLoader.LoadFile(parse.GetValue(config), parse.GetValue(set));
            if (group?.FirstOrDefault(w => w >= experiment.Workers, -1) is { } outside and >= 0)
            {
                // Named here: each worker's own check would call the option --id.
                throw new CommandFailure($"--ids {parse.GetValue(ids)}: worker {outside} is not one of this config's workers 0..{experiment.Workers - 1} (workers = {experiment.Workers})");
            }

            var realTime = new RealTimeOptions { DelayScale = parse.GetValue(delayScale), ComputeMilliseconds = parse.GetValue(computeMs) };
            var retryFor = RetryWindow(parse.GetValue(retry));
            WorkerSettings Settings(int workerId) => new()
            {
                Server = parse.GetValue(server)!,
                WorkerId = workerId,
                KeyPath = Directory.Exists(keyPath) ? Path.Combine(keyPath, $"worker-{workerId}.key") : keyPath,
                Config = experiment,
                RealTime = realTime,
                CaCertificatePath = parse.GetValue(ca),
                RetryFor = retryFor,
            };

            var log = logs.CreateLogger("dstar.work");
            return group is null
                ? await ClusterWorker.RunAsync(Settings(WorkerId(parse.GetValue(id), Environment.GetEnvironmentVariable(CompletionIndexVariable))), log, cancellation)
                    .ConfigureAwait(false)
                : await ClusterWorker.RunGroupAsync(group.Select(Settings).ToArray(), log, cancellation).ConfigureAwait(false);
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

    /// <summary>The worker ids of <c>--ids</c>: comma-separated ids and inclusive ranges (<c>0-3,6</c>), in the order given.</summary>
    /// <exception cref="CommandFailure">an empty list, an entry that is not an id or a range, a range that runs backwards, or an id given twice.</exception>
    internal static int[] ParseIds(string text)
    {
        var result = new List<int>();
        foreach (var entry in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var bounds = entry.Split('-', 2);
            if (!bounds.All(b => int.TryParse(b, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)))
            {
                throw new CommandFailure($"--ids {text}: '{entry}' is not a worker id or a range of them (such as 0-3)");
            }

            int first = int.Parse(bounds[0], System.Globalization.CultureInfo.InvariantCulture);
            int last = int.Parse(bounds[^1], System.Globalization.CultureInfo.InvariantCulture);
            if (last < first)
            {
                throw new CommandFailure($"--ids {text}: the range '{entry}' runs backwards");
            }

            if (last - first >= MaxIds - result.Count)
            {
                throw new CommandFailure($"--ids {text}: more than {MaxIds} workers for one process");
            }

            result.AddRange(Enumerable.Range(first, last - first + 1));
        }

        if (result.GroupBy(w => w).FirstOrDefault(g => g.Count() > 1) is { } repeated)
        {
            throw new CommandFailure($"--ids {text}: worker {repeated.Key} is given twice");
        }

        return result.ToArray();
    }

    /// <summary>The most workers one process runs (<c>--ids</c>).</summary>
    public const int MaxIds = Dstar.Cluster.Worker.ClusterWorker.MaxGroup;

    // TimeSpan.FromSeconds throws on NaN and overflows on huge values: refuse them in the option's own words.
    private static TimeSpan RetryWindow(double seconds) =>
        double.IsFinite(seconds) && seconds >= 0 && seconds <= WorkerSettings.MaxRetryFor.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw new CommandFailure(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--retry-seconds {seconds}: must be in 0..{WorkerSettings.MaxRetryFor.TotalSeconds} (one week)"));
}

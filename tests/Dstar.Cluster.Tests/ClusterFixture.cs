using System.Text.Json;
using System.Globalization;
using Dstar.Cluster.Launch;
using Dstar.Cluster.Security;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;

namespace Dstar.Cluster.Tests;

/// <summary>A temporary cluster directory: config, one key pair per worker, the authorized-keys file, a free port.</summary>
internal sealed class ClusterFixture : IDisposable
{
    /// <summary>A tiny experiment: synthetic logistic regression (d = features + 1), the same YAML as dstar simulate.</summary>
    public static string Yaml(int workers, int k, int rounds, int checkpointEvery = 0, string aggregator = "mean", int samples = 1200,
        int features = 10, string extra = "") => string.Create(CultureInfo.InvariantCulture,
        $"seed: 1\nrounds: {rounds}\neval_every: 10\ndata:\n  name: synthetic-logistic\n  samples: {samples}\n  features: {features}\n  validation_size: 200\n"
        + $"model: logreg\nworkers: {workers}\nk: {k}\naggregator: {aggregator}\nlr: 0.5\nbatch_size: 16\ncheckpoint_every: {checkpointEvery}\n{extra}");

    public ClusterFixture(string configText, int computeMilliseconds = 0, int? port = null)
    {
        ComputeMilliseconds = computeMilliseconds;
        Directory = Path.Combine(Path.GetTempPath(), "dstar-cluster-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
        ConfigPath = Path.Combine(Directory, "cluster.yaml");
        File.WriteAllText(ConfigPath, configText);
        Config = ConfigLoader.LoadFile(ConfigPath);
        KeysDirectory = Path.Combine(Directory, "keys");
        var lines = Enumerable.Range(0, Config.Workers).Select(id => WorkerKey.WriteKeyPair(id, KeysDirectory)).ToList();
        AuthorizedKeysPath = Path.Combine(Directory, "authorized_keys");
        File.WriteAllLines(AuthorizedKeysPath, lines);
        Port = port ?? ClusterLauncher.FreeLoopbackPort();
    }

    public string Directory { get; }

    public string ConfigPath { get; }

    public ExperimentConfig Config { get; }

    public int ComputeMilliseconds { get; }

    public string KeysDirectory { get; }

    public string AuthorizedKeysPath { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string RunDirectory => Path.Combine(Directory, "run");

    public string CheckpointPath => Path.Combine(RunDirectory, CheckpointFile.FileName);

    public string KeyPath(int id) => Path.Combine(KeysDirectory, $"worker-{id}.key");

    public string[] ServeArguments(bool resume = false, string? listen = null) =>
    [
        "serve", "--config", ConfigPath, "--listen", listen ?? Url, "--authorized-keys", AuthorizedKeysPath, "--insecure",
        "--out", RunDirectory, "--no-plots", .. resume ? new[] { "--resume" } : [],
    ];

    public string[] WorkArguments(int id, string? server = null) =>
        ["work", "--server", server ?? Url, "--id", id.ToString(CultureInfo.InvariantCulture), "--key", KeyPath(id), "--config", ConfigPath,
            "--retry-seconds", "60", "--delay-scale", "0", "--compute-ms", ComputeMilliseconds.ToString(CultureInfo.InvariantCulture)];

    /// <summary>The rounds written so far to rounds.jsonl.</summary>
    public IReadOnlyList<JsonElement> Rounds()
    {
        var path = Path.Combine(RunDirectory, MetricsFiles.JsonLinesName);
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var rounds = new List<JsonElement>();
        while (reader.ReadLine() is { } line)
        {
            if (line.EndsWith('}'))
            {
                rounds.Add(JsonDocument.Parse(line).RootElement.Clone());
            }
        }

        return rounds;
    }

    public JsonElement Summary() => JsonDocument.Parse(File.ReadAllText(Path.Combine(RunDirectory, "summary.json"))).RootElement.Clone();

    public async Task WaitForRoundAsync(int count, TimeSpan timeout, Func<string> diagnostics)
    {
        var start = DateTime.UtcNow;
        while (Rounds().Count < count)
        {
            if (DateTime.UtcNow - start > timeout)
            {
                throw new TimeoutException($"fewer than {count} rounds after {timeout.TotalSeconds} s:\n{diagnostics()}");
            }

            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

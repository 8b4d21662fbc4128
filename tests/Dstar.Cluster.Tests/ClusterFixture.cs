using System.Text.Json;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Launch;
using Dstar.Cluster.Security;

namespace Dstar.Cluster.Tests;

/// <summary>A temporary cluster directory: config, one key pair per worker, the authorized-keys file, a free port.</summary>
internal sealed class ClusterFixture : IDisposable
{
    public ClusterFixture(string configText, int? port = null)
    {
        Directory = Path.Combine(Path.GetTempPath(), "dstar-cluster-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
        ConfigPath = Path.Combine(Directory, "cluster.yaml");
        File.WriteAllText(ConfigPath, configText);
        Config = ClusterConfig.Load(ConfigPath);
        KeysDirectory = Path.Combine(Directory, "keys");
        var lines = Enumerable.Range(0, Config.Workers).Select(id => WorkerKey.WriteKeyPair(id, KeysDirectory)).ToList();
        AuthorizedKeysPath = Path.Combine(Directory, "authorized_keys");
        File.WriteAllLines(AuthorizedKeysPath, lines);
        Port = port ?? ClusterLauncher.FreeLoopbackPort();
    }

    public string Directory { get; }

    public string ConfigPath { get; }

    public ClusterConfig Config { get; }

    public string KeysDirectory { get; }

    public string AuthorizedKeysPath { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string RunDirectory => Path.Combine(Directory, "run");

    public string CheckpointDirectory => Path.Combine(Directory, "checkpoints");

    public string KeyPath(int id) => Path.Combine(KeysDirectory, $"worker-{id}.key");

    public string[] ServeArguments(bool resume = false, string? listen = null) =>
    [
        "serve", "--config", ConfigPath, "--listen", listen ?? Url, "--authorized-keys", AuthorizedKeysPath, "--insecure",
        "--checkpoint-dir", CheckpointDirectory, "--out", RunDirectory, .. resume ? new[] { "--resume" } : [],
    ];

    public string[] WorkArguments(int id, string? server = null) =>
        ["work", "--server", server ?? Url, "--id", id.ToString(), "--key", KeyPath(id), "--config", ConfigPath, "--retry-seconds", "60"];

    /// <summary>The rounds written so far to rounds.jsonl.</summary>
    public IReadOnlyList<JsonElement> Rounds()
    {
        var path = Path.Combine(RunDirectory, "rounds.jsonl");
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

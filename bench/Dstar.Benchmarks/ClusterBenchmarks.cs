using BenchmarkDotNet.Attributes;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Launch;
using Dstar.Cluster.Security;
using Dstar.Cluster.Server;
using Dstar.Cluster.Worker;
using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dstar.Benchmarks;

/// <summary>
/// Cost per round of the same model: the in-process simulator against a real loopback cluster (server and 4 workers as
/// gRPC clients in this process, zero delays). Each invocation runs 50 rounds including setup (data, model, host).
/// Run: <c>dotnet run -c Release --project bench/Dstar.Benchmarks -- --filter '*ClusterRoundBenchmarks*'</c>.
/// </summary>
[WarmupCount(1)]
[IterationCount(3)]
[InvocationCount(1)]
public class ClusterRoundBenchmarks
{
    private const int Rounds = 50;
    private const string Yaml = "seed: 1\nrounds: 50\neval_every: 50\ndata:\n  name: synthetic-logistic\n  samples: 4000\n  features: 100\n  validation_size: 500\n"
        + "model: logreg\nworkers: 4\nk: 3\naggregator: median\ndelay: constant time=1\nlr: 0.5\nbatch_size: 32\ncheckpoint_every: 0\n";

    /// <summary>50 simulated rounds (per round).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Rounds)]
    public async Task Simulator()
    {
        using var simulator = new Simulator(ConfigLoader.Load(Yaml));
        await simulator.RunAsync(null, plots: false);
    }

    /// <summary>50 cluster rounds over loopback gRPC (per round).</summary>
    [Benchmark(OperationsPerInvoke = Rounds)]
    public async Task Cluster()
    {
        var directory = Path.Combine(Path.GetTempPath(), "dstar-bench-round-" + Guid.NewGuid().ToString("N")[..6]);
        var lines = Enumerable.Range(0, 4).Select(i => WorkerKey.WriteKeyPair(i, directory)).ToArray();
        var keysPath = Path.Combine(directory, "authorized_keys");
        File.WriteAllLines(keysPath, lines);
        var config = ConfigLoader.Load(Yaml);
        var url = $"http://127.0.0.1:{ClusterLauncher.FreeLoopbackPort()}";
        var server = ClusterServer.RunAsync(new ServerSettings
        {
            Config = config,
            Listen = url,
            AuthorizedKeysPath = keysPath,
            Insecure = true,
            Plots = false,
        }, TextWriter.Null);
        var workers = Enumerable.Range(0, 4).Select(i => Task.Run(() => ClusterWorker.RunAsync(new WorkerSettings
        {
            Server = url,
            WorkerId = i,
            KeyPath = Path.Combine(directory, $"worker-{i}.key"),
            Config = config,
            RealTime = new RealTimeOptions { DelayScale = 0 },
        }, NullLogger.Instance))).ToArray();
        await server;
        await Task.WhenAll(workers);
        Directory.Delete(directory, recursive: true);
    }
}

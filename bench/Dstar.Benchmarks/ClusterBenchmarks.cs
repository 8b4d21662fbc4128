using System.Net;
using BenchmarkDotNet.Attributes;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Launch;
using Dstar.Cluster.Observability;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Cluster.Server;
using Dstar.Cluster.Wire;
using Dstar.Cluster.Worker;
using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dstar.Benchmarks;

/// <summary>
/// Gradient push over loopback gRPC (d = 1,000,000 float32 = 4 MB per message: client encode, HTTP/2 h2c, server decode
/// into a pooled buffer, hand-off to the round loop) next to an in-process copy of the same 4 MB.
/// Run: <c>dotnet run -c Release --project bench/Dstar.Benchmarks -- --filter '*ClusterPushBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(8)]
public class ClusterPushBenchmarks
{
    private const int Dimension = 1_000_000;
    private const int Pushes = 16;
    private readonly float[] _gradient = new float[Dimension];
    private readonly float[] _copy = new float[Dimension];
    private WebApplication? _app;
    private GrpcTransport? _transport;
    private GrpcChannel? _channel;
    private WorkerConnection? _connection;
    private IAsyncEnumerator<Dstar.Engine.Transport.Arrival>? _arrivals;
    private byte[] _payload = [];
    private string _directory = "";

    /// <summary>Starts a Kestrel gRPC host with the real service and transport, and joins one authenticated worker.</summary>
    [GlobalSetup]
    public async Task SetupAsync()
    {
        for (var i = 0; i < Dimension; i++)
        {
            _gradient[i] = i * 1e-6f;
        }

        _directory = Path.Combine(Path.GetTempPath(), "dstar-bench-" + Environment.ProcessId);
        var line = WorkerKey.WriteKeyPair(0, _directory);
        var keys = AuthorizedKeys.Parse([line]);
        var metrics = new ClusterMetrics();
        _transport = new GrpcTransport(1, Dimension, metrics);
        var port = ClusterLauncher.FreeLoopbackPort();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        var contract = ConfigFingerprint.Of(new ExperimentConfig());
        builder.Services.AddSingleton(_transport).AddSingleton(keys).AddSingleton(metrics).AddSingleton(contract);
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = Dimension * 4 + ClusterServer.MessageSlack);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        _app = builder.Build();
        _app.MapGrpcService<Dstar.Cluster.Server.ParameterService>();
        await _app.StartAsync();

        _channel = WorkerConnection.CreateChannel($"http://127.0.0.1:{port}", null);
        using var key = WorkerKey.LoadPrivateKey(Path.Combine(_directory, "worker-0.key"));
        _connection = await WorkerConnection.JoinAsync(_channel, 0, key, contract.Values, CancellationToken.None);
        _arrivals = _transport.ReadArrivalsAsync().GetAsyncEnumerator();
        _payload = new byte[Dimension * 4];
    }

    /// <summary>One 4 MB gradient: encode, send, receive, decode, deliver; per push (16 per invocation).</summary>
    [Benchmark(OperationsPerInvoke = Pushes)]
    public async Task GrpcPush()
    {
        for (var i = 0; i < Pushes; i++)
        {
            FloatWire.Write(_gradient, _payload);
            await _connection!.Call.RequestStream.WriteAsync(new WorkerMessage
            {
                Gradient = new Gradient { Version = 0, Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(_payload) },
            });
            await _arrivals!.MoveNextAsync();
        }
    }

    /// <summary>The same 4 MB copied in process.</summary>
    [Benchmark(Baseline = true)]
    public void InProcessCopy() => _gradient.AsSpan().CopyTo(_copy);

    /// <summary>Stops the host.</summary>
    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _arrivals!.DisposeAsync();
        _connection!.Dispose();
        _channel!.Dispose();
        await _app!.StopAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

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

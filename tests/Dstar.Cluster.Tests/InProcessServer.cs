using Dstar.Cluster.Configuration;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Server;
using Dstar.Cluster.Worker;
using Dstar.Engine.Configuration;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dstar.Cluster.Tests;

/// <summary>A real server on a loopback port inside the test process, with helpers to run honest workers and raw clients.</summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task<int>> _workers = new();

    public InProcessServer(string configText, int computeMilliseconds = 0, Dstar.Cluster.Observability.IClusterMonitor? monitor = null)
    {
        Fixture = new ClusterFixture(configText, computeMilliseconds);
        Progress = new StringWriter();
        Task = ClusterServer.RunAsync(new ServerSettings
        {
            Config = Fixture.Config,
            Listen = Fixture.Url,
            AuthorizedKeysPath = Fixture.AuthorizedKeysPath,
            Insecure = true,
            OutputDirectory = Fixture.RunDirectory,
            Plots = false,
            Monitor = monitor,
        }, TextWriter.Synchronized(Progress), _stop.Token);
        Channel = WorkerConnection.CreateChannel(Fixture.Url, null);
    }

    public ClusterFixture Fixture { get; }

    public StringWriter Progress { get; }

    public Task<int> Task { get; }

    public GrpcChannel Channel { get; }

    /// <summary>What an honest worker of this run presents in its Hello.</summary>
    public IReadOnlyDictionary<string, string> Contract => ConfigFingerprint.Of(Fixture.Config).Values;

    /// <summary>An honest worker's Hello for <paramref name="workerId"/>.</summary>
    public Hello Hello(int workerId)
    {
        var hello = new Hello { WorkerId = workerId };
        foreach (var (key, value) in Contract)
        {
            hello.Contract.Add(key, value);
        }

        return hello;
    }

    // Task.Run: building a worker loads its data and model synchronously, which must not block the test's thread.
    /// <summary>Runs honest worker <paramref name="id"/>, connecting to the server or to <paramref name="via"/> (a proxy in front of it).</summary>
    public void StartHonestWorker(int id, string? via = null) => _workers.Add(System.Threading.Tasks.Task.Run(() => ClusterWorker.RunAsync(new WorkerSettings
    {
        Server = via ?? Fixture.Url,
        WorkerId = id,
        KeyPath = Fixture.KeyPath(id),
        Config = Fixture.Config,
        RealTime = new RealTimeOptions { DelayScale = 0, ComputeMilliseconds = Fixture.ComputeMilliseconds },
        RetryFor = TimeSpan.FromSeconds(20),
    }, NullLogger.Instance, _stop.Token)));

    public async Task<string> MetricsAsync()
    {
        using var http = new HttpClient
        {
            DefaultRequestVersion = System.Net.HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        return await http.GetStringAsync(Fixture.Url + "/metrics");
    }

    /// <summary>Waits until the server accepts connections.</summary>
    public async Task ReadyAsync()
    {
        for (var i = 0; i < 200; i++)
        {
            try
            {
                await MetricsAsync();
                return;
            }
            catch (HttpRequestException)
            {
                await System.Threading.Tasks.Task.Delay(50);
            }
        }

        throw new TimeoutException("the in-process server never answered /metrics:\n" + Progress);
    }

    /// <summary>Reads until a message of <paramref name="kind"/> comes, skipping others; fails after 20 s.</summary>
    public static async Task<ServerMessage> NextAsync<TRequest>(AsyncDuplexStreamingCall<TRequest, ServerMessage> call, ServerMessage.BodyOneofCase kind)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await call.ResponseStream.MoveNext(timeout.Token))
        {
            if (call.ResponseStream.Current.BodyCase == kind)
            {
                return call.ResponseStream.Current;
            }
        }

        throw new InvalidOperationException($"the stream ended before a {kind} message");
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await Task;
        }
        catch (Exception)
        {
            // The test's own assertions decide; a server stopped mid-test must not mask them.
        }

        foreach (var worker in _workers)
        {
            try
            {
                await worker;
            }
            catch (Exception)
            {
            }
        }

        Channel.Dispose();
        Fixture.Dispose();
    }

    public async Task<int> WaitWorkersAsync()
    {
        var codes = await System.Threading.Tasks.Task.WhenAll(_workers);
        return codes.Max();
    }
}

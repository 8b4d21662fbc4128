using Dstar.Cluster.Launch;
using Dstar.Cluster.Observability;
using Dstar.Cluster.Security;
using Dstar.Cluster.Server;
using Dstar.Cluster.Worker;
using Dstar.Engine.Configuration;
using Dstar.Engine.Transport;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;

namespace Dstar.Cluster.Benchmarks;

/// <summary>
/// <c>serve</c>'s Kestrel host (<see cref="ClusterServer.BuildHost"/>) on a free loopback port, for a run of one worker
/// and gradients of d values, with worker 0 registered and joined as <c>dstar work</c> joins: the server side is read
/// through <see cref="Transport"/> as the round loop reads it. <c>dstar bench wire</c> measures with it; the tests of
/// the upload channel drive it.
/// </summary>
internal sealed class LoopbackSession : IAsyncDisposable
{
    private LoopbackSession(WebApplication app, GrpcChannel channel, WorkerConnection connection, GrpcTransport transport, ClusterMetrics metrics, string url,
        string? caPath)
    {
        App = app;
        Channel = channel;
        Connection = connection;
        Transport = transport;
        Metrics = metrics;
        Url = url;
        CaPath = caPath;
    }

    /// <summary>The started host.</summary>
    public WebApplication App { get; }

    /// <summary>The worker's channel to it.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>Worker 0's joined session.</summary>
    public WorkerConnection Connection { get; }

    /// <summary>The server's transport: arrivals and outcomes.</summary>
    public GrpcTransport Transport { get; }

    /// <summary>The server's metrics.</summary>
    public ClusterMetrics Metrics { get; }

    /// <summary>The server's address (http, or https with TLS).</summary>
    public string Url { get; }

    /// <summary>The CA certificate the worker trusts (with TLS), or null.</summary>
    public string? CaPath { get; }

    /// <summary>The session's upload token, from its Welcome.</summary>
    public ReadOnlyMemory<byte> UploadToken => Connection.Welcome.UploadToken.Memory;

    /// <summary>
    /// Starts the host for gradients of <paramref name="dimension"/> values in <paramref name="wire"/>, over TLS with
    /// <paramref name="tls"/>'s files (else h2c), with worker 0's key pair written in <paramref name="directory"/>, and joins worker 0.
    /// </summary>
    public static async Task<LoopbackSession> StartAsync(int dimension, WireFormat wire, string directory, (string Ca, string Certificate, string Key)? tls,
        CancellationToken cancellationToken)
    {
        var line = WorkerKey.WriteKeyPair(0, directory);
        var authorizedKeys = Path.Combine(directory, "authorized_keys");
        await File.WriteAllTextAsync(authorizedKeys, line + "\n", cancellationToken).ConfigureAwait(false);
        var config = new ExperimentConfig { Workers = 1, K = 1, Wire = wire.Name() };
        var url = $"{(tls is null ? "http" : "https")}://127.0.0.1:{ClusterLauncher.FreeLoopbackPort()}";
        var settings = new ServerSettings
        {
            Config = config,
            Listen = url,
            AuthorizedKeysPath = authorizedKeys,
            Insecure = tls is null,
            TlsCertificatePath = tls?.Certificate,
            TlsKeyPath = tls?.Key,
            Plots = false,
        };
        var metrics = new ClusterMetrics();
        var transport = new GrpcTransport(1, dimension, metrics, wire: wire);
        var contract = ConfigFingerprint.Of(config);
        var app = ClusterServer.BuildHost(settings, transport, AuthorizedKeys.Load(authorizedKeys), metrics, contract, consoleLogs: false);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var channel = WorkerConnection.CreateChannel(url, tls?.Ca, dimension);
        using var key = WorkerKey.LoadPrivateKey(Path.Combine(directory, "worker-0.key"));
        var connection = await WorkerConnection.JoinAsync(channel, 0, key, contract.Values, cancellationToken).ConfigureAwait(false);
        return new LoopbackSession(app, channel, connection, transport, metrics, url, tls?.Ca);
    }

    /// <summary>Opens an upload connection with <paramref name="token"/> (default: the session's), as <c>dstar work</c> does.</summary>
    public Task<GradientUpload> OpenUploadAsync(ReadOnlyMemory<byte>? token = null, CancellationToken cancellationToken = default) =>
        GradientUpload.OpenAsync(new Uri(Url), token ?? UploadToken, CaPath, Transport.Dimension, Transport.Wire, cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Connection.Dispose();
        Channel.Dispose();
        Transport.Finish(0);
        await App.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await App.DisposeAsync().ConfigureAwait(false);
    }
}

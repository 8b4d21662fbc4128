using System.Diagnostics;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Server;
using Dstar.Cluster.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dstar.Cluster.Tests.Server;

/// <summary>Failures at start-up end in one clear line (or exit code) at once, not a trace or a long retry.</summary>
[Trait("Category", "Cluster")]
public class StartupFailureTests
{
    private static readonly string Config = ClusterFixture.Yaml(workers: 2, k: 1, rounds: 2, samples: 600, features: 3);

    [Fact]
    public async Task A_busy_port_is_one_io_error_naming_the_listen_url()
    {
        await using var server = new InProcessServer(Config);
        await server.ReadyAsync();
        var e = await Assert.ThrowsAsync<IOException>(() => ClusterServer.RunAsync(new ServerSettings
        {
            Config = server.Fixture.Config,
            Listen = server.Fixture.Url,
            AuthorizedKeysPath = server.Fixture.AuthorizedKeysPath,
            Insecure = true,
        }, TextWriter.Null));
        Assert.StartsWith($"--listen {server.Fixture.Url}: cannot listen there:", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task A_busy_metrics_port_is_one_io_error_naming_metrics_listen()
    {
        using var fixture = new ClusterFixture(Config);
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        var metrics = $"http://127.0.0.1:{((System.Net.IPEndPoint)busy.LocalEndpoint).Port}";
        var e = await Assert.ThrowsAsync<IOException>(() => ClusterServer.RunAsync(new ServerSettings
        {
            Config = fixture.Config,
            Listen = fixture.Url,
            MetricsListen = metrics,
            AuthorizedKeysPath = fixture.AuthorizedKeysPath,
            Insecure = true,
        }, TextWriter.Null));
        Assert.StartsWith($"--metrics-listen {metrics}: cannot listen there:", e.Message);
    }

    [Fact]
    public async Task A_worker_reaching_a_server_without_tls_over_https_is_told_so_not_that_the_certificate_is_untrusted()
    {
        await using var server = new InProcessServer(Config);
        await server.ReadyAsync();
        var ca = TestCertificates.Write(Path.Combine(server.Fixture.Directory, "tls"), ["127.0.0.1"]).CaPath;
        var log = new ListLogger();
        var code = await ClusterWorker.RunAsync(new WorkerSettings
        {
            Server = $"https://127.0.0.1:{server.Fixture.Port}",
            WorkerId = 0,
            KeyPath = server.Fixture.KeyPath(0),
            Config = server.Fixture.Config,
            CaCertificatePath = ca,
            RealTime = new RealTimeOptions { DelayScale = 0 },
            RetryFor = TimeSpan.FromSeconds(60),
        }, log);
        Assert.Equal(ClusterWorker.UntrustedServerExitCode, code);
        var error = Assert.Single(log.Lines, l => l.Level == LogLevel.Error).Message;
        Assert.StartsWith($"worker 0: the TLS handshake with server https://127.0.0.1:{server.Fixture.Port} failed before any certificate came (", error);
        Assert.EndsWith("is the server serving TLS? A server started with --insecure speaks plain HTTP/2: reach it with http://", error);
    }

    [Fact]
    public async Task A_worker_reaching_a_tls_server_over_http_is_told_to_use_https()
    {
        using var fixture = new ClusterFixture(Config);
        var served = TestCertificates.Write(Path.Combine(fixture.Directory, "served"), ["127.0.0.1"]);
        await using var server = TlsServer.Start(fixture, served);
        var log = new ListLogger();

        var code = await ClusterWorker.RunAsync(Worker(fixture, fixture.Url, caCertificate: null, retrySeconds: 2), log);

        Assert.Equal(ClusterWorker.UnreachableExitCode, code);
        const string hint = "the server did not answer as plain HTTP/2: a server with TLS, started without --insecure, is reached with https://";
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message.EndsWith($"; retrying ({hint})", StringComparison.Ordinal));
        Assert.Equal($"worker 0: server {fixture.Url} unreachable for 2 s; giving up: {hint}", Assert.Single(log.Lines, l => l.Level == LogLevel.Error).Message);
    }

    [Fact]
    public async Task A_worker_given_a_certificate_for_another_host_is_told_which_host_it_lacks()
    {
        using var fixture = new ClusterFixture(Config);
        var served = TestCertificates.Write(Path.Combine(fixture.Directory, "served"), ["10.20.30.40"]);
        await using var server = TlsServer.Start(fixture, served);
        var log = new ListLogger();

        var code = await ClusterWorker.RunAsync(Worker(fixture, server.Url, served.CaPath, retrySeconds: 60), log);

        Assert.Equal(ClusterWorker.UntrustedServerExitCode, code);
        var error = Assert.Single(log.Lines, l => l.Level == LogLevel.Error).Message;

        // It chains to the CA given: only the name is wrong.
        Assert.Equal($"worker 0: the TLS certificate of server {server.Url} is not trusted: its certificate does not name the host '127.0.0.1': "
            + "connect by a host name or IP address the certificate lists", error);
    }

    [Fact]
    public async Task A_worker_facing_an_untrusted_server_certificate_stops_at_once()
    {
        using var fixture = new ClusterFixture(Config);
        var served = TestCertificates.Write(Path.Combine(fixture.Directory, "served"), ["127.0.0.1"]);
        var other = TestCertificates.Write(Path.Combine(fixture.Directory, "other"), ["127.0.0.1"]);
        await using var server = TlsServer.Start(fixture, served);
        var clock = Stopwatch.StartNew();

        var code = await ClusterWorker.RunAsync(Worker(fixture, server.Url, other.CaPath, retrySeconds: 60), NullLogger.Instance);

        Assert.Equal(ClusterWorker.UntrustedServerExitCode, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}: it retried instead of stopping");
    }

    private static WorkerSettings Worker(ClusterFixture fixture, string server, string? caCertificate, int retrySeconds) => new()
    {
        Server = server,
        WorkerId = 0,
        KeyPath = fixture.KeyPath(0),
        Config = fixture.Config,
        CaCertificatePath = caCertificate,
        RealTime = new RealTimeOptions { DelayScale = 0 },
        RetryFor = TimeSpan.FromSeconds(retrySeconds),
    };

    /// <summary>A server with TLS on the fixture's port, stopped (and awaited) on dispose.</summary>
    private sealed class TlsServer : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _run = Task.CompletedTask;

        public required string Url { get; init; }

        public static TlsServer Start(ClusterFixture fixture, (string CaPath, string CertificatePath, string KeyPath) served)
        {
            var server = new TlsServer { Url = $"https://127.0.0.1:{fixture.Port}" };
            server._run = ClusterServer.RunAsync(new ServerSettings
            {
                Config = fixture.Config,
                Listen = server.Url,
                AuthorizedKeysPath = fixture.AuthorizedKeysPath,
                TlsCertificatePath = served.CertificatePath,
                TlsKeyPath = served.KeyPath,
            }, TextWriter.Null, server._stop.Token);
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            try
            {
                await _run;
            }
            catch (OperationCanceledException)
            {
            }

            _stop.Dispose();
        }
    }
}

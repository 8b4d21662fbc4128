using System.Diagnostics;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Server;
using Dstar.Cluster.Worker;
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
    public async Task A_worker_facing_an_untrusted_server_certificate_stops_at_once()
    {
        using var fixture = new ClusterFixture(Config);
        var served = TestCertificates.Write(Path.Combine(fixture.Directory, "served"), ["127.0.0.1"]);
        var other = TestCertificates.Write(Path.Combine(fixture.Directory, "other"), ["127.0.0.1"]);
        var url = $"https://127.0.0.1:{fixture.Port}";
        using var stop = new CancellationTokenSource();
        var serverTask = ClusterServer.RunAsync(new ServerSettings
        {
            Config = fixture.Config,
            Listen = url,
            AuthorizedKeysPath = fixture.AuthorizedKeysPath,
            TlsCertificatePath = served.CertificatePath,
            TlsKeyPath = served.KeyPath,
        }, TextWriter.Null, stop.Token);
        try
        {
            var clock = Stopwatch.StartNew();
            var code = await ClusterWorker.RunAsync(new WorkerSettings
            {
                Server = url,
                WorkerId = 0,
                KeyPath = fixture.KeyPath(0),
                Config = fixture.Config,
                CaCertificatePath = other.CaPath,
                RealTime = new RealTimeOptions { DelayScale = 0 },
                RetryFor = TimeSpan.FromSeconds(60),
            }, NullLogger.Instance);
            Assert.Equal(ClusterWorker.UntrustedServerExitCode, code);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}: it retried instead of stopping");
        }
        finally
        {
            stop.Cancel();
            try
            {
                await serverTask;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}

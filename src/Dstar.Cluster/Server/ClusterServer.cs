using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Observability;
using Dstar.Cluster.Security;
using Dstar.Cluster.Workload;
using Dstar.Core.Optimization;
using Dstar.Core.Specs;
using Dstar.Engine.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dstar.Cluster.Server;

/// <summary>
/// <c>dstar serve</c>: the Engine's <see cref="ParameterServer"/> driving a <see cref="GrpcTransport"/> on Kestrel
/// (HTTP/2; TLS unless insecure on loopback), with <c>/metrics</c> and <c>/healthz</c>, checkpoints every M rounds
/// and on SIGTERM, and a run directory.
/// </summary>
public static class ClusterServer
{
    /// <summary>Extra bytes allowed over 4·d in one received message (protobuf framing of the version and field tags).</summary>
    public const int MessageSlack = 1024;

    /// <summary>Exit code when stopped by a signal after saving a checkpoint: 128 + SIGTERM, the shell convention.</summary>
    public const int InterruptedExitCode = 143;

    /// <summary>Runs the server until the last round, or until stopped (SIGTERM / Ctrl+C); returns the exit code.</summary>
    /// <exception cref="ArgumentException">invalid settings (the message names the option).</exception>
    public static async Task<int> RunAsync(ServerSettings settings, TextWriter progress, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        var config = settings.Config;
        using var keys = AuthorizedKeys.Load(settings.AuthorizedKeysPath);
        var dimension = ClusterWorkload.Dimension(config);
        var metrics = new ClusterMetrics();
        var transport = new GrpcTransport(config.Workers, dimension, metrics);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        if (settings.JsonLogs)
        {
            builder.Logging.AddJsonConsole(o => o.UseUtcTimestamp = true);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning);
        builder.Services.AddSingleton(transport).AddSingleton(keys).AddSingleton(metrics);
        builder.Services.AddGrpc(o =>
        {
            // A gradient larger than the model is refused from its length prefix, before its payload is buffered.
            o.MaxReceiveMessageSize = dimension * 4 + MessageSlack;
            o.MaxSendMessageSize = null;
            o.EnableDetailedErrors = false;
        });
        builder.WebHost.ConfigureKestrel(kestrel => ConfigureListeners(kestrel, settings));

        await using var app = builder.Build();
        app.MapGrpcService<ParameterService>();
        app.MapGet("/metrics", () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/healthz", () => Results.Text($"ok version={transport.CurrentVersion} workers={transport.ConnectedCount}\n"));
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("dstar.serve");

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, app.Lifetime.ApplicationStopping);
        log.LogInformation("serving {Workers} workers (k = {K}, rule {Rule}) on {Listen}{Tls}", config.Workers, config.K,
            config.Rule, settings.Listen, settings.Insecure ? " without TLS (loopback)" : " with TLS");

        int exitCode;
        try
        {
            exitCode = await TrainAsync(settings, transport, metrics, progress, log, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            // Give the session writers a moment to deliver Finished and the last outcomes.
            await Task.Delay(200, CancellationToken.None).ConfigureAwait(false);
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return exitCode;
    }

    private static async Task<int> TrainAsync(ServerSettings settings, GrpcTransport transport, ClusterMetrics metrics, TextWriter progress,
        ILogger log, CancellationToken cancellationToken)
    {
        var config = settings.Config;
        using var validationOracle = ClusterWorkload.CreateOracle(config);
        using var evaluationOracle = ClusterWorkload.CreateOracle(config);
        var pipeline = Registry.Pipeline(config.Rule, config.PreSpecs);
        var server = new ParameterServer(
            new ParameterServerOptions
            {
                WorkerCount = config.Workers,
                K = config.K,
                ByzantineCount = config.Byzantine,
                Deadline = config.DeadlineMilliseconds > 0 ? config.DeadlineMilliseconds / 1000.0 : null,
                MinimumCount = config.KMin,
                Seed = config.Seed,
            },
            ClusterWorkload.InitialParameters(config),
            pipeline,
            new Sgd(ClusterWorkload.Dimension(config), config.LearningRate, config.Momentum),
            ClusterWorkload.Validation(config, validationOracle),
            x =>
            {
                evaluationOracle.SetParameters(x.Span);
                return evaluationOracle.Evaluate();
            });
        transport.Collector = server.Collector;

        long resumedFrom = -1;
        if (settings.Resume && ClusterCheckpoint.FindLatest(settings.CheckpointDirectory!) is { } latest)
        {
            ClusterCheckpoint.Load(latest).RestoreInto(server);
            resumedFrom = server.Version;
            log.LogInformation("resumed from {Checkpoint} at round {Round}", latest, server.Version);
            progress.WriteLine($"resumed from {Path.GetFileName(latest)} at round {server.Version}");
        }

        using var run = settings.OutputDirectory is null ? null : new RunDirectory(settings.OutputDirectory, config);
        var evaluateEvery = Math.Max(1, config.Rounds / 10);
        var clock = Stopwatch.StartNew();
        var dropCounts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        Dstar.Learning.Evaluation? last = null;
        try
        {
            while (server.Version < config.Rounds)
            {
                var evaluate = (server.Version + 1) % evaluateEvery == 0 || server.Version + 1 == config.Rounds;
                var round = await server.RunRoundAsync(transport, evaluate, cancellationToken).ConfigureAwait(false);
                transport.ReportRound(round);
                metrics.RecordRound(server.Version, round.WallSeconds);
                run?.Write(round);
                foreach (var drop in round.Drops)
                {
                    var name = drop.Reason.ToString().ToLowerInvariant();
                    dropCounts[name] = dropCounts.GetValueOrDefault(name) + 1;
                }

                if (round.Evaluation is { } e)
                {
                    last = e;
                    progress.WriteLine(
                        $"round {round.Round + 1}/{config.Rounds}  accuracy {e.Accuracy:P1}  test loss {e.Loss:F4}  kept [{string.Join(',', round.KeptWorkers)}]  round {round.WallSeconds * 1000:F1} ms");
                }

                if (settings.CheckpointDirectory is { } directory && config.CheckpointEvery > 0 && server.Version % config.CheckpointEvery == 0)
                {
                    ClusterCheckpoint.Capture(server).Save(directory);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // SIGTERM / Ctrl+C: the interrupted round never stepped, so the state is the end of the last full round.
            if (settings.CheckpointDirectory is { } directory)
            {
                var path = ClusterCheckpoint.Capture(server).Save(directory);
                log.LogWarning("stopped at round {Round}; checkpoint {Path}", server.Version, path);
            }

            progress.WriteLine($"interrupted at round {server.Version}");
            return InterruptedExitCode;
        }

        transport.Finish(server.Version);
        if (settings.CheckpointDirectory is { } final)
        {
            ClusterCheckpoint.Capture(server).Save(final);
        }

        run?.WriteSummary(new
        {
            rounds = server.Version,
            resumed_from = resumedFrom >= 0 ? resumedFrom : (long?)null,
            accuracy = last?.Accuracy,
            test_loss = last?.Loss,
            wall_seconds = clock.Elapsed.TotalSeconds,
            rule = pipeline.Name,
            workers = config.Workers,
            k = config.K,
            byzantine = config.Byzantine,
            attack = config.Attack,
            drops = dropCounts,
            refused_connections = new
            {
                unauthenticated = metrics.Refused("unauthenticated"),
                unregistered = metrics.Refused("unregistered"),
                bad_signature = metrics.Refused("bad-signature"),
            },
        });
        if (settings.OutputDirectory is { } output)
        {
            // The final /metrics snapshot, readable after the server is gone.
            File.WriteAllText(Path.Combine(output, "metrics.prom"), metrics.Render());
        }

        progress.WriteLine($"finished {server.Version} rounds in {clock.Elapsed.TotalSeconds:F1} s; accuracy {last?.Accuracy:P1}");
        return 0;
    }

    private static void ConfigureListeners(KestrelServerOptions kestrel, ServerSettings settings)
    {
        var uri = settings.ListenUri;
        X509Certificate2? certificate = settings.Insecure
            ? null
            : X509Certificate2.CreateFromPemFile(settings.TlsCertificatePath!, settings.TlsKeyPath!);
        Listen(kestrel, uri, listen =>
        {
            if (certificate is null)
            {
                listen.Protocols = HttpProtocols.Http2;
            }
            else
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificate);
            }
        });

        if (settings.MetricsListen is { } metricsListen)
        {
            var metricsUri = new Uri(metricsListen);
            Listen(kestrel, metricsUri, listen => listen.Protocols = HttpProtocols.Http1);
        }
    }

    private static void Listen(KestrelServerOptions kestrel, Uri uri, Action<ListenOptions> configure)
    {
        if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(uri.Port, configure);
        }
        else if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
        {
            kestrel.Listen(address, uri.Port, configure);
        }
        else
        {
            kestrel.ListenAnyIP(uri.Port, configure);
        }
    }
}

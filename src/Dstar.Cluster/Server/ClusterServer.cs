using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dstar.Cluster.Observability;
using Dstar.Cluster.Security;
using Dstar.Core;
using Dstar.Core.Specs;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Running;
using Dstar.Engine.Server;
using Dstar.Engine.Transport;
using Dstar.Engine.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        if (!settings.Resume && settings.OutputDirectory is { } directory)
        {
            // Before anything listens or writes: a finished run is never emptied by a new server started on it.
            if (RunDirectory.Claim(directory, settings.Overwrite ? RunDirectoryMode.Overwrite : RunDirectoryMode.New) is { } moved)
            {
                progress.WriteLine($"moved the previous {directory} aside to {moved}");
            }
        }

        using var keys = AuthorizedKeys.Load(settings.AuthorizedKeysPath);
        using var workload = WorkloadFactory.Create(config);
        var dimension = workload.Oracle.ParameterCount;
        var metrics = new ClusterMetrics();
        var transport = new GrpcTransport(config.Workers, dimension, metrics, settings.Monitor, WireFormats.Parse(config.Wire)) { Quorum = RoundQuorum.Of(config) };

        await using var app = BuildHost(settings, transport, keys, metrics, ConfigFingerprint.Of(config), consoleLogs: true);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("dstar.serve");

        // Before anything listens or says it serves: a resume reads and checks its checkpoint (and the metrics rows it
        // covers), a new run refuses a checkpoint it would overwrite, so a refusal is the one thing the user sees and
        // nothing on disk has changed.
        var clock = new Stopwatch();
        var (server, driver) = CreateRun(settings, workload, transport, metrics, progress, log, clock);
        driver.Open();
        if (settings.BeforeListeningAsync is { } beforeListening)
        {
            await beforeListening(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // A busy port or an address this host does not have: one line naming the option, not Kestrel's trace.
            var (option, url) = BindingOf(settings, e.Message);
            throw new IOException($"{option} {url}: cannot listen there: {e.Message.ReplaceLineEndings(" ").Trim()}", e);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, app.Lifetime.ApplicationStopping);
        using var interrupted = stop.Token.Register(transport.Interrupted);
        log.LogInformation("serving {Workers} workers (k = {K}, rule {Rule}) on {Listen}{Tls}", config.Workers, config.AutoK ? "auto" : config.K,
            config.Aggregator, settings.Listen, settings.Insecure ? " without TLS (loopback)" : " with TLS");

        int exitCode = InterruptedExitCode; // also when training throws: no grace for sessions then
        try
        {
            exitCode = await TrainAsync(settings, server, driver, transport, metrics, progress, log, clock, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            // Give the session writers time to deliver Finished and the last outcomes, and a worker that is joining
            // right now time to finish its join and be told the run is over (else it would retry a gone server):
            // at least 0.5 s, then until every session has left, at most 3 s.
            var grace = System.Diagnostics.Stopwatch.StartNew();
            while (exitCode != InterruptedExitCode && grace.Elapsed < TimeSpan.FromSeconds(3)
                && (grace.Elapsed < TimeSpan.FromSeconds(0.5) || transport.ConnectedCount > 0))
            {
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
            }

            // A stopped run's sessions (whose workers wait to reconnect to a resumed server) are ended here: Kestrel's
            // graceful stop would otherwise wait for every open stream until its shutdown timeout, past the CLI's
            // grace after a signal. A finished run's sessions are left to deliver Finished and close on their own.
            if (exitCode == InterruptedExitCode)
            {
                transport.EndSessions();
            }

            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return exitCode;
    }

    /// <summary>The run's parameter server and its driver (not yet opened), with the cluster's hooks around the rounds.</summary>
    private static (ParameterServer Server, RunDriver Driver) CreateRun(ServerSettings settings, Dstar.Learning.Workload workload, GrpcTransport transport,
        ClusterMetrics metrics, TextWriter progress, ILogger log, Stopwatch clock)
    {
        var config = settings.Config;
        var pipeline = Registry.Pipeline(config.Aggregator, config.Pre);
        var server = ParameterServerFactory.Create(config, workload, pipeline);
        RunDriver driver = null!;
        driver = new RunDriver(config, server, transport, new RunOptions
        {
            Name = "cluster",
            Description = $"gRPC cluster; {workload.Description}; N = {config.Workers}, k = {(config.AutoK ? "auto" : config.K)}, rule {pipeline.Name}",
            Directory = settings.OutputDirectory,
            CheckpointDirectory = settings.CheckpointDirectory,
            Mode = settings.Resume ? RunDirectoryMode.Resume : RunDirectoryMode.New,
            Plots = settings.Plots,
            Sinks = [new TextProgressSink(progress, config.EvalEvery), .. settings.ExtraSinks],
            BeforeFirstRoundAsync = async token =>
            {
                if (settings.Resume)
                {
                    log.LogInformation("resumed from {Checkpoint} at round {Round}", driver.Options.CheckpointPath, server.Version);
                    progress.WriteLine($"resumed from {driver.Options.CheckpointPath} at round {server.Version}");
                }

                // Round 0's time should measure the workers, not how long their processes take to start.
                if (transport.ConnectedCount < config.KCapacity)
                {
                    log.LogInformation("waiting for {K} workers to join before round {Round} ({Count} connected)", config.KCapacity, server.Version, transport.ConnectedCount);
                }

                await transport.WaitForWorkersAsync(config.KCapacity, token).ConfigureAwait(false);
                log.LogInformation("{Count} workers connected; starting at round {Round}", transport.ConnectedCount, server.Version);
                clock.Restart();
            },
            AfterRound = round =>
            {
                transport.ReportRound(round);
                metrics.RecordRound(server.Version, round.WallSeconds, round.Timing);
            },
        });
        return (server, driver);
    }

    private static async Task<int> TrainAsync(ServerSettings settings, ParameterServer server, RunDriver driver, GrpcTransport transport, ClusterMetrics metrics,
        TextWriter progress, ILogger log, Stopwatch clock, CancellationToken cancellationToken)
    {
        var directory = settings.OutputDirectory;
        var checkpointPath = driver.Options.CheckpointPath;
        clock.Start();
        var result = await driver.RunAsync(cancellationToken).ConfigureAwait(false);
        if (result.End == RunEnd.Interrupted)
        {
            if (checkpointPath is null)
            {
                log.LogWarning("stopped at round {Round}; no checkpoint written (neither --out nor --checkpoint-dir was given)", server.Version);
            }
            else
            {
                log.LogWarning("stopped at round {Round}; checkpoint {Path}", server.Version, checkpointPath);
            }

            progress.WriteLine($"interrupted at round {server.Version}");
            return InterruptedExitCode;
        }

        transport.Finish(server.Version);
        var summary = result.Summary!;
        if (summary.StoppedAtRound is { } stopped)
        {
            log.LogWarning("round {Round} cannot complete: {Reason}", stopped, summary.StopReason);
        }

        if (directory is not null)
        {
            // The final /metrics text, readable after the server is gone.
            File.WriteAllText(Path.Combine(directory, "metrics.prom"), metrics.Render());
        }

        progress.WriteLine($"finished {summary.Rounds} rounds in {clock.Elapsed.TotalSeconds:F1} s; accuracy {summary.FinalAccuracy:P1}");
        return 0;
    }

    /// <summary>
    /// The Kestrel host of <c>dstar serve</c>: the gRPC <see cref="ParameterService"/> over <paramref name="transport"/>,
    /// <c>/metrics</c> and <c>/healthz</c>, listening as <paramref name="settings"/> say (not started). <c>dstar bench
    /// wire</c> builds its server with this too, so that it measures the code path of <c>serve</c>.
    /// </summary>
    internal static WebApplication BuildHost(ServerSettings settings, GrpcTransport transport, AuthorizedKeys keys, ClusterMetrics metrics,
        ConfigFingerprint contract, bool consoleLogs)
    {
        // The empty builder: no appsettings.json read from the working directory (it could add Kestrel endpoints) and
        // no watcher over that directory tree (a thread woken by every file the run writes there); Kestrel, logging
        // and routing are added as the server uses them.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration();
        builder.Services.AddLogging().AddRoutingCore();
        if (consoleLogs && settings.JsonLogs)
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "O";
            });
        }
        else if (consoleLogs)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        // Hosting logs a failed start with its trace; the failure itself is reported as one line instead.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None).AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Services.AddSingleton(transport).AddSingleton(keys).AddSingleton(metrics).AddSingleton(contract);

        // Disposed with the host, which writes the summaries of refusals still only counted.
        builder.Services.AddSingleton(services => new RefusalLog(services.GetRequiredService<ILoggerFactory>().CreateLogger<GradientUploads>(), "upload connection"));
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Grpc.AspNetCore.Server.Model.IServiceMethodProvider<ParameterService>, SessionMethodProvider>());
        builder.Services.AddGrpc(o =>
        {
            // A gradient larger than the model is refused from its length prefix, before its payload is decoded.
            o.MaxReceiveMessageSize = MaxGradientMessage(transport.Dimension, transport.Wire);
            o.MaxSendMessageSize = null;
            o.EnableDetailedErrors = false;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ConfigureListeners(kestrel, settings, transport.Uploads);

            // Flow control: a worker may send a whole gradient without waiting for a window update (the defaults,
            // 768 KiB per stream and 1 MiB per connection, made a 40 MB gradient wait for ~50 of them). Memory stays
            // bounded as before: gRPC buffers at most one message of the receive limit per stream either way.
            var window = MaxGradientMessage(transport.Dimension, transport.Wire);
            kestrel.Limits.Http2.InitialStreamWindowSize = Math.Max(kestrel.Limits.Http2.InitialStreamWindowSize, window);
            kestrel.Limits.Http2.InitialConnectionWindowSize = Math.Max(kestrel.Limits.Http2.InitialConnectionWindowSize, window);
        });

        var app = builder.Build();
        app.MapGrpcService<ParameterService>();
        app.MapGet("/metrics", () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/healthz", () => Results.Text($"ok version={transport.CurrentVersion} workers={transport.ConnectedCount}\n"));
        return app;
    }

    /// <summary>
    /// The largest gradient message of d values in <paramref name="wire"/>: d · bytes per value plus framing
    /// (<see cref="MessageSlack"/>), at most 2³¹ − 1. The gRPC receive limit, and the HTTP/2 windows that hold one whole message.
    /// </summary>
    internal static int MaxGradientMessage(int dimension, WireFormat wire) => (int)Math.Min(int.MaxValue, (long)dimension * wire.BytesPerValue() + MessageSlack);

    /// <summary>
    /// The option whose address a failed start's <paramref name="message"/> is about: <c>--metrics-listen</c> when it
    /// names that port and not <c>--listen</c>'s (the two differ: <see cref="ServerSettings.Validate"/> refuses one port for both), else <c>--listen</c>.
    /// </summary>
    private static (string Option, string Url) BindingOf(ServerSettings settings, string message)
    {
        static bool Names(string text, int port) => System.Text.RegularExpressions.Regex.IsMatch(text, $@":{port}(?!\d)");
        return settings.MetricsListen is { } metrics && Uri.TryCreate(metrics, UriKind.Absolute, out var uri)
            && Names(message, uri.Port) && !Names(message, settings.ListenUri.Port)
            ? ("--metrics-listen", metrics)
            : ("--listen", settings.Listen);
    }

    private static void ConfigureListeners(KestrelServerOptions kestrel, ServerSettings settings, GradientUploads uploads)
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

            // After TLS: an upload connection is told from HTTP by its first decrypted byte, on the session's own port.
            listen.Use(next => uploads.Middleware(next, listen.ApplicationServices.GetRequiredService<RefusalLog>(),
                listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<GradientUploads>()));
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

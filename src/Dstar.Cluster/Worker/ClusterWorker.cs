using System.Threading.Channels;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Cluster.Wire;
using Dstar.Engine.Configuration;
using Dstar.Engine.Transport;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Dstar.Cluster.Worker;

/// <summary>
/// <c>dstar work</c>: joins the server, then for each parameter version it receives waits its delay-model time
/// (a real sleep), computes its gradient (or its Byzantine message) and sends it. A newer version arriving meanwhile
/// supersedes the work in progress, so a slow worker never sends a gradient it already knows is stale. On a broken
/// connection it reconnects (and receives the current parameters on joining) until <see cref="WorkerSettings.RetryFor"/>
/// passes without success. A refused join is final.
/// </summary>
public static class ClusterWorker
{
    /// <summary>Exit code when the server refused the join.</summary>
    public const int RefusedExitCode = 4;

    /// <summary>Exit code when the server stayed unreachable.</summary>
    public const int UnreachableExitCode = 5;

    /// <summary>Exit code when the server's TLS certificate is not trusted (a configuration error: the wrong or no --ca-cert).</summary>
    public const int UntrustedServerExitCode = 2;

    /// <summary>Runs until the server says the run is finished; returns the exit code.</summary>
    /// <exception cref="ArgumentException">invalid settings (the message names the option).</exception>
    public static async Task<int> RunAsync(WorkerSettings settings, ILogger log, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        using var key = WorkerKey.LoadPrivateKey(settings.KeyPath);
        if (WorkerKey.PermissionWarning(settings.KeyPath) is { } warning)
        {
            log.LogWarning("{Warning}", warning);
        }

        var contract = ConfigFingerprint.Of(settings.Config);
        using var source = new GradientSource(settings.Config, settings.WorkerId, settings.RealTime);
        using var channel = WorkerConnection.CreateChannel(settings.Server, settings.CaCertificatePath, source.Dimension);
        var outcomes = new OutcomeTally();
        var lastContact = DateTime.UtcNow;
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var connection = await WorkerConnection.JoinAsync(channel, settings.WorkerId, key, contract.Values, cancellationToken).ConfigureAwait(false);
                if (connection.Welcome.Dimension != source.Dimension)
                {
                    log.LogError("the server's model has d = {ServerDimension}, this worker's config gives d = {Dimension}", connection.Welcome.Dimension, source.Dimension);
                    return RefusedExitCode;
                }

                log.LogInformation("worker {Worker} joined{Role}", settings.WorkerId, source.IsByzantine ? " (Byzantine)" : "");
                backoff = TimeSpan.FromMilliseconds(100);
                await using var upload = await OpenUploadAsync(settings, connection, source, log, cancellationToken).ConfigureAwait(false);
                if (await ServeAsync(connection, source, upload, outcomes, log, cancellationToken).ConfigureAwait(false))
                {
                    await connection.Call.RequestStream.CompleteAsync().ConfigureAwait(false);
                    await AwaitCallEndAsync(connection).ConfigureAwait(false);
                    log.LogInformation("worker {Worker}: run finished; the server reported {Outcomes}", settings.WorkerId, outcomes);
                    return 0;
                }

                lastContact = DateTime.UtcNow;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.FailedPrecondition)
            {
                log.LogError("worker {Worker}: the server refused the join: {Detail}", settings.WorkerId, e.Status.Detail);
                return RefusedExitCode;
            }
            catch (Exception e) when (WorkerConnection.IsUntrustedServer(e))
            {
                // Retrying cannot help: the same certificate will be refused again.
                log.LogError("worker {Worker}: the TLS certificate of server {Server} is not trusted: {Trust}", settings.WorkerId, settings.Server,
                    settings.CaCertificatePath is null
                        ? "it does not chain to the system trust store; pass --ca-cert with the CA certificate that signed it"
                        : $"it does not chain to --ca-cert '{settings.CaCertificatePath}'");
                return UntrustedServerExitCode;
            }
            catch (Exception e) when (e is RpcException or IOException or InvalidDataException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                log.LogWarning("worker {Worker}: connection lost ({Message}); retrying", settings.WorkerId, e.Message);
            }

            if (DateTime.UtcNow - lastContact > settings.RetryFor)
            {
                log.LogError("worker {Worker}: server {Server} unreachable for {Seconds:F0} s; giving up", settings.WorkerId, settings.Server,
                    settings.RetryFor.TotalSeconds);
                return UnreachableExitCode;
            }

            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            backoff = TimeSpan.FromMilliseconds(Math.Min(2000, backoff.TotalMilliseconds * 2));
        }

        return 0;
    }

    /// <summary>Runs one joined session; true when the server finished the run, false when the stream ended otherwise.</summary>
    private static async Task<bool> ServeAsync(WorkerConnection connection, GradientSource source, GradientUpload? upload, OutcomeTally outcomes,
        ILogger log, CancellationToken cancellationToken)
    {
        var latest = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var finished = false;
        var reader = Task.Run(async () =>
        {
            try
            {
                while (await connection.Call.ResponseStream.MoveNext(stop.Token).ConfigureAwait(false))
                {
                    var message = connection.Call.ResponseStream.Current;
                    switch (message.BodyCase)
                    {
                        case ServerMessage.BodyOneofCase.Parameters:
                            latest.Writer.TryWrite(new WorkItem(message.Parameters.Version, message.Parameters.Data.Memory, System.Diagnostics.Stopwatch.GetTimestamp()));
                            break;
                        case ServerMessage.BodyOneofCase.Outcome:
                            outcomes.Record(message.Outcome, source.WorkerId, log);
                            break;
                        case ServerMessage.BodyOneofCase.Finished:
                            finished = true;
                            return;
                    }
                }
            }
            finally
            {
                latest.Writer.TryComplete();
            }
        }, CancellationToken.None);

        // With an upload channel x_t comes down it. If it ends while the session goes on, the server sends x_t on the
        // stream again (and the next gradient's send fails, so the worker rejoins).
        var downloads = upload is null ? Task.CompletedTask : Task.Run(async () =>
        {
            try
            {
                await foreach (var frame in upload.ReadDownAsync(stop.Token).ConfigureAwait(false))
                {
                    if (frame.Parameters is { } data)
                    {
                        latest.Writer.TryWrite(new WorkItem(frame.Version, data, System.Diagnostics.Stopwatch.GetTimestamp()));
                    }
                    else
                    {
                        outcomes.Record(frame.Outcome!, source.WorkerId, log);
                    }
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                log.LogDebug("worker {Worker}: upload connection ended: {Message}", source.WorkerId, e.Message);
            }
        }, CancellationToken.None);

        var gradient = new float[source.Dimension];
        var parameters = new float[source.Dimension];
        var sender = new GradientSender(connection.Call.RequestStream, source.Dimension, source.Wire, upload);
        try
        {
            while (await latest.Reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
            {
                if (!latest.Reader.TryRead(out var received))
                {
                    continue;
                }

                var delay = source.Delay(received.Version);
                if (double.IsPositiveInfinity(delay))
                {
                    continue;
                }

                if (delay > 0 && await SupersededWithinAsync(latest.Reader, TimeSpan.FromSeconds(delay), stop.Token).ConfigureAwait(false))
                {
                    continue;
                }

                long computeStart = System.Diagnostics.Stopwatch.GetTimestamp();
                FloatWire.Read(received.Data.Span, parameters);
                source.Compute(received.Version, parameters, gradient);
                var computeSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(computeStart).TotalSeconds;
                if (latest.Reader.Count > 0)
                {
                    continue;
                }

                if (source.Wire != WireFormat.Float32 && source.Wire.FirstUnfit(gradient) is var (index, value))
                {
                    // Sent as it encodes (±∞ or NaN), never clipped: the server refuses it as malformed, and says so.
                    log.LogWarning("worker {Worker}: gradient for version {Version} does not fit {Wire}: value {Value} at index {Index} encodes as a non-finite value; the server will refuse it",
                        source.WorkerId, received.Version, source.Wire.Name(), value, index);
                }

                await sender.SendAsync(received.Version, gradient, stop.Token, computeSeconds,
                    System.Diagnostics.Stopwatch.GetElapsedTime(received.Timestamp).TotalSeconds).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException)
        {
            // The stream broke while sending; whether the run finished is decided by what the reader saw.
            log.LogDebug("worker {Worker}: send failed: {Message}", source.WorkerId, e.Message);
        }
        finally
        {
            stop.Cancel();
            await downloads.ConfigureAwait(false);
            try
            {
                await reader.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException or IOException)
            {
                if (!finished && e is RpcException rpc && rpc.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated)
                {
                    throw;
                }
            }
        }

        return finished;
    }

    /// <summary>
    /// Waits (at most a second) for the server to end the call after the worker ended its side, so that disposing it
    /// does not reset a stream the server is still closing (which the server would log as a broken stream).
    /// </summary>
    private static async Task AwaitCallEndAsync(WorkerConnection connection)
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            while (await connection.Call.ResponseStream.MoveNext(wait.Token).ConfigureAwait(false))
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or IOException or InvalidOperationException)
        {
            // The run is over either way.
        }
    }

    /// <summary>
    /// Opens the session's upload channel when the server offers one; null (gradients then go on the session stream,
    /// with one warning) when it cannot be opened, for example through a proxy that passes only HTTP.
    /// </summary>
    private static async Task<GradientUpload?> OpenUploadAsync(WorkerSettings settings, WorkerConnection connection, GradientSource source, ILogger log,
        CancellationToken cancellationToken)
    {
        var token = connection.Welcome.UploadToken.Memory;
        if (token.Length != UploadFrames.TokenLength)
        {
            return null;
        }

        try
        {
            return await GradientUpload.OpenAsync(new Uri(settings.Server), token, settings.CaCertificatePath, source.Dimension, source.Wire, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException
                                   || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            log.LogWarning("worker {Worker}: no upload channel ({Message}); gradients go on the session stream", source.WorkerId, e.Message);
            return null;
        }
    }

    // True when a newer version arrived before the sleep ended (the work is superseded).
    private static async Task<bool> SupersededWithinAsync(ChannelReader<WorkItem> latest, TimeSpan delay, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(delay);
        try
        {
            return await latest.WaitToReadAsync(timer.Token).ConfigureAwait(false) && latest.Count > 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// The outcomes the server reported for this worker's gradients, over all its sessions; a rejection is logged as it
    /// comes (it means this worker sent something wrong).
    /// </summary>
    private sealed class OutcomeTally
    {
        private long _kept;
        private long _filtered;
        private long _late;
        private long _rejected;

        public void Record(Outcome outcome, int worker, ILogger log)
        {
            switch (outcome.Kind)
            {
                case OutcomeKind.Kept:
                    Interlocked.Increment(ref _kept);
                    break;
                case OutcomeKind.Dropped:
                    Interlocked.Increment(ref _filtered);
                    break;
                case OutcomeKind.Late:
                    Interlocked.Increment(ref _late);
                    break;
                case OutcomeKind.Rejected:
                    Interlocked.Increment(ref _rejected);
                    log.LogWarning("worker {Worker}: gradient for version {Version} rejected: {Reason}", worker, outcome.Version, outcome.Reason);
                    break;
            }
        }

        public override string ToString() =>
            $"{Volatile.Read(ref _kept)} gradients kept, {Volatile.Read(ref _filtered)} filtered out, {Volatile.Read(ref _late)} late, {Volatile.Read(ref _rejected)} rejected";
    }

    /// <summary>x_version to work on (d little-endian float32 values), with the <see cref="System.Diagnostics.Stopwatch"/> timestamp of its arrival.</summary>
    private readonly record struct WorkItem(long Version, ReadOnlyMemory<byte> Data, long Timestamp);
}

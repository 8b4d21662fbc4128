using System.Net.Sockets;
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

    /// <summary>
    /// Exit code when the TLS handshake with the server fails: its certificate is not trusted (the wrong or no
    /// --ca-cert, or not for the host in --server) or it does not speak TLS (https:// to a server started with
    /// --insecure). A configuration error, which retrying cannot mend.
    /// </summary>
    public const int UntrustedServerExitCode = 2;

    /// <summary>The most workers one process runs (<see cref="RunGroupAsync"/>, <c>dstar work --ids</c>).</summary>
    public const int MaxGroup = 1024;

    /// <summary>Runs until the server says the run is finished; returns the exit code.</summary>
    /// <exception cref="ArgumentException">invalid settings (the message names the option).</exception>
    public static async Task<int> RunAsync(WorkerSettings settings, ILogger log, CancellationToken cancellationToken = default)
    {
        settings.Validate();
        using var key = WorkerKey.LoadPrivateKey(settings.KeyPath);
        using var source = new GradientSource(settings.Config, settings.WorkerId, settings.RealTime);
        return await RunAsync(settings, key, source, log, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs several workers of one run in this process (<c>dstar work --ids</c>), each with its own key, connection,
    /// session and rounds thread, as separate processes would, but sharing one copy of the data and of the runtime
    /// (each has a model replica of its own, or its own whole workload when the model keeps running statistics).
    /// Returns when every worker has ended: 0 when all finished the run, else the exit code of the first (in the
    /// order given) that did not.
    /// </summary>
    /// <exception cref="ArgumentException">invalid settings, a repeated id, settings of different runs, or more than <see cref="MaxGroup"/> workers.</exception>
    public static async Task<int> RunGroupAsync(IReadOnlyList<WorkerSettings> group, ILogger log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.Count == 0)
        {
            throw new ArgumentException("no worker to run", nameof(group));
        }

        if (group.Count > MaxGroup)
        {
            throw new ArgumentException($"{group.Count} workers for one process; at most {MaxGroup}", nameof(group));
        }

        foreach (var settings in group)
        {
            settings.Validate();
            if (!ReferenceEquals(settings.Config, group[0].Config))
            {
                throw new ArgumentException("the workers of one process must share one config object", nameof(group));
            }
        }

        if (group.Select(s => s.WorkerId).GroupBy(id => id).FirstOrDefault(g => g.Count() > 1) is { } repeated)
        {
            throw new ArgumentException($"worker id {repeated.Key} is given twice", nameof(group));
        }

        // Every key is read before any data is loaded, so a missing one is reported at once.
        var keys = new List<System.Security.Cryptography.ECDsa>();
        var sources = new List<GradientSource>();
        try
        {
            foreach (var settings in group)
            {
                keys.Add(WorkerKey.LoadPrivateKey(settings.KeyPath));
            }

            sources.Add(new GradientSource(group[0].Config, group[0].WorkerId, group[0].RealTime));
            var workload = sources[0].Workload;
            var replicas = workload.HasRunningState ? null : workload.Replicas(group.Count - 1);
            for (var i = 1; i < group.Count; i++)
            {
                sources.Add(replicas is null
                    ? new GradientSource(group[i].Config, group[i].WorkerId, group[i].RealTime)
                    : new GradientSource(group[i].Config, group[i].WorkerId, group[i].RealTime, workload, replicas[i - 1]));
                sources[i].ShareDelayDraws(sources[0]);
            }

            var runs = group.Select((settings, i) => Task.Run(() => RunAsync(settings, keys[i], sources[i], log, cancellationToken), CancellationToken.None)).ToArray();
            var codes = await Task.WhenAll(runs).ConfigureAwait(false);
            return codes.FirstOrDefault(code => code != 0);
        }
        finally
        {
            // The first source owns the shared workload: it goes last.
            for (var i = sources.Count - 1; i >= 0; i--)
            {
                sources[i].Dispose();
            }

            keys.ForEach(k => k.Dispose());
        }
    }

    private static async Task<int> RunAsync(WorkerSettings settings, System.Security.Cryptography.ECDsa key, GradientSource source, ILogger log,
        CancellationToken cancellationToken)
    {
        if (WorkerKey.PermissionWarning(settings.KeyPath) is { } warning)
        {
            log.LogWarning("{Warning}", warning);
        }

        var contract = ConfigFingerprint.Of(settings.Config);
        var certificates = new ServerCertificateCheck(settings.CaCertificatePath is null ? null : WorkerConnection.LoadCaCertificate(settings.CaCertificatePath));
        using var channel = WorkerConnection.CreateChannel(settings.Server, settings.CaCertificatePath, source.Dimension, certificates);
        var outcomes = new OutcomeTally();
        var lastContact = DateTime.UtcNow;
        var backoff = TimeSpan.FromMilliseconds(100);
        string? hint = null;
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
                hint = null;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.FailedPrecondition)
            {
                log.LogError("worker {Worker}: the server refused the join: {Detail}", settings.WorkerId, e.Status.Detail);
                return RefusedExitCode;
            }
            catch (RpcException e) when (IsReplaced(e))
            {
                // Rejoining would end the other process's session in turn, and the two would take turns for ever.
                log.LogError("worker {Worker}: another process runs with this id and took the session over ({Detail}); this one stops",
                    settings.WorkerId, e.Status.Detail);
                return RefusedExitCode;
            }
            catch (Exception e) when (WorkerConnection.IsUntrustedServer(e))
            {
                // Retrying cannot help: the same certificate will be refused again, and a server without TLS stays so.
                log.LogError("worker {Worker}: {Problem}", settings.WorkerId, certificates.Explain(settings.Server, settings.CaCertificatePath, e));
                return UntrustedServerExitCode;
            }
            catch (Exception e) when (e is RpcException or IOException or InvalidDataException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                // Kept for the rest of this retry window: a TLS server may also just close the connection on a
                // plain-text preface, and that attempt's error alone says nothing of the cause.
                hint = WorkerConnection.PlainHttpHint(settings.Server, e) ?? hint;
                log.LogWarning("worker {Worker}: connection lost ({Message}); retrying{Hint}", settings.WorkerId, e.Message, hint is null ? "" : $" ({hint})");
            }

            if (DateTime.UtcNow - lastContact > settings.RetryFor)
            {
                log.LogError("worker {Worker}: server {Server} unreachable for {Seconds:F0} s; giving up{Hint}", settings.WorkerId, settings.Server,
                    settings.RetryFor.TotalSeconds, hint is null ? "" : $": {hint}");
                return UnreachableExitCode;
            }

            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            backoff = TimeSpan.FromMilliseconds(Math.Min(2000, backoff.TotalMilliseconds * 2));
        }

        return 0;
    }

    /// <summary>Runs one joined session; true when the server finished the run, false when the stream ended otherwise.</summary>
    /// <remarks>
    /// With an upload channel the rounds run on a thread of the worker's own (<see cref="UploadLoop"/>), which blocks on
    /// the connection and so is woken once per round by the kernel; the session stream then brings only the rejections
    /// and the run's end. Without one, x_t comes on the stream and the rounds run on the thread pool.
    /// </remarks>
    private static async Task<bool> ServeAsync(WorkerConnection connection, GradientSource source, GradientUpload? upload, OutcomeTally outcomes,
        ILogger log, CancellationToken cancellationToken)
    {
        // Without an upload channel x_t comes on the stream: the newest waits here for the rounds loop.
        var latest = upload is null ? Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest }) : null;
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
                        // With an upload connection x_t comes down it, the one sent here on joining included (the
                        // server queues it there too when the connection opens).
                        case ServerMessage.BodyOneofCase.Parameters when latest is not null:
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
                latest?.Writer.TryComplete();
            }
        }, CancellationToken.None);

        try
        {
            if (upload is not null)
            {
                var rounds = UploadLoop(upload, source, outcomes, log, stop.Token);

                // Either ends the session: the stream (the run finished, or the session ended) or the connection broke.
                var first = await Task.WhenAny(reader, rounds).ConfigureAwait(false);
                if (first == rounds)
                {
                    // When the server ended the session, the connection ends as the stream does: give the stream's
                    // status (the run finished, or a second process took this id over) a moment to arrive.
                    await Task.WhenAny(reader, Task.Delay(StreamEndGrace, CancellationToken.None)).ConfigureAwait(false);
                }

                log.LogInformation("worker {Worker}: session ending ({Side} ended first)", source.WorkerId, first == reader ? "stream" : "upload connection");
                stop.Cancel();
                upload.Abort();
                if (await Task.WhenAny(rounds, Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None)).ConfigureAwait(false) != rounds)
                {
                    log.LogWarning("worker {Worker}: the rounds thread did not stop within 3 s of the session's end; waiting for it", source.WorkerId);
                }

                // Never two rounds threads at once: the gradient source is not thread-safe.
                await rounds.ConfigureAwait(false);
            }
            else
            {
                await StreamLoopAsync(latest!.Reader, new GradientSender(connection.Call.RequestStream, source.Dimension, source.Wire), source, log, stop.Token)
                    .ConfigureAwait(false);
            }
        }
        finally
        {
            stop.Cancel();
            try
            {
                await reader.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException or IOException)
            {
                if (!finished && e is RpcException rpc && (rpc.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated || IsReplaced(rpc)))
                {
                    throw;
                }
            }
        }

        return finished;
    }

    /// <summary>How long a session whose upload connection ended waits for its stream to end too, and say why.</summary>
    private static readonly TimeSpan StreamEndGrace = TimeSpan.FromSeconds(1);

    /// <summary>The server ended the session because a newer session of this worker id joined (<see cref="Server.ParameterService.ReplacedReason"/>).</summary>
    private static bool IsReplaced(RpcException e) =>
        e.StatusCode == StatusCode.Aborted && e.Status.Detail.StartsWith(Server.ParameterService.ReplacedReason + ":", StringComparison.Ordinal);

    /// <summary>The rounds of a session without an upload channel: x_t from the stream, gradients on it.</summary>
    private static async Task StreamLoopAsync(ChannelReader<WorkItem> latest, GradientSender sender, GradientSource source, ILogger log, CancellationToken stop)
    {
        var gradient = new float[source.Dimension];
        var parameters = new float[source.Dimension];
        try
        {
            while (await latest.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                if (!latest.TryRead(out var received))
                {
                    continue;
                }

                var delay = source.Delay(received.Version);
                if (double.IsPositiveInfinity(delay)
                    || (delay > 0 && await SupersededWithinAsync(latest, TimeSpan.FromSeconds(delay), stop).ConfigureAwait(false)))
                {
                    continue;
                }

                var computeSeconds = Compute(source, received.Version, received.Data.Span, parameters, gradient, log);
                if (latest.Count > 0)
                {
                    continue;
                }

                await sender.SendAsync(received.Version, gradient, stop, computeSeconds,
                    System.Diagnostics.Stopwatch.GetElapsedTime(received.Timestamp).TotalSeconds).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException)
        {
            // The stream broke while sending; whether the run finished is decided by what the reader saw.
            log.LogDebug("worker {Worker}: send failed: {Message}", source.WorkerId, e.Message);
        }
    }

    /// <summary>
    /// The rounds of a session with an upload channel, on a thread of their own: reads x_t and outcomes from the
    /// connection, waits the round's delay (cut short by a newer x_t), computes and sends, blocking on the connection
    /// throughout. Ends when the connection ends (after <see cref="GradientUpload.Abort"/> too) or breaks.
    /// </summary>
    private static Task UploadLoop(GradientUpload upload, GradientSource source, OutcomeTally outcomes, ILogger log, CancellationToken stop)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            var gradient = new float[source.Dimension];
            var parameters = new float[source.Dimension];
            var received = new byte[source.Dimension * FloatWire.BytesPerValue];
            try
            {
                while (!stop.IsCancellationRequested && upload.ReadDown(received) is { } frame)
                {
                    var arrived = System.Diagnostics.Stopwatch.GetTimestamp();
                    if (frame.Outcome is { } outcome)
                    {
                        outcomes.Record(outcome, source.WorkerId, log);
                        continue;
                    }

                    // A newer x_t (or the run's last outcomes) already waits: this version is superseded.
                    var delay = source.Delay(frame.Version);
                    if (upload.HasUnread || double.IsPositiveInfinity(delay) || (delay > 0 && upload.WaitForUnread(TimeSpan.FromSeconds(delay))))
                    {
                        continue;
                    }

                    var computeSeconds = Compute(source, frame.Version, received, parameters, gradient, log);
                    if (upload.HasUnread)
                    {
                        continue;
                    }

                    upload.Send(frame.Version, gradient, computeSeconds, System.Diagnostics.Stopwatch.GetElapsedTime(arrived).TotalSeconds);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // The connection broke or was ended: the session ends, and the worker rejoins unless the run finished.
                log.LogDebug("worker {Worker}: upload connection ended: {Message}", source.WorkerId, e.Message);
            }
            catch (Exception e)
            {
                done.TrySetException(e);
                return;
            }

            done.TrySetResult();
        })
        {
            IsBackground = true,
            Name = $"dstar worker {source.WorkerId} rounds",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>Computes the gradient at x_version (d little-endian float32 bytes); returns the seconds it took.</summary>
    private static double Compute(GradientSource source, long version, ReadOnlySpan<byte> x, float[] parameters, float[] gradient, ILogger log)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        FloatWire.Read(x, parameters);
        source.Compute(version, parameters, gradient);
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (source.Wire != WireFormat.Float32 && source.Wire.FirstUnfit(gradient) is var (index, value))
        {
            // Sent as it encodes (±∞ or NaN), never clipped: the server refuses it as malformed, and says so.
            log.LogWarning("worker {Worker}: gradient for version {Version} does not fit {Wire}: value {Value} at index {Index} encodes as a non-finite value; the server will refuse it",
                source.WorkerId, version, source.Wire.Name(), value, index);
        }

        return seconds;
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

using Dstar.Cluster.Observability;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Engine.Configuration;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Dstar.Cluster.Server;

/// <summary>
/// The gRPC service: authenticates each worker stream with the challenge–response of <see cref="JoinChallenge"/>,
/// binds the stream to the proven worker id, then relays parameters out and gradients in through the
/// <see cref="GrpcTransport"/>. A refused stream ends with <see cref="StatusCode.Unauthenticated"/> or
/// <see cref="StatusCode.PermissionDenied"/> (or <see cref="StatusCode.FailedPrecondition"/> for a worker whose
/// <see cref="ConfigFingerprint"/> differs), is logged and counted in <c>dstar_refused_connections_total</c>.
/// </summary>
public sealed class ParameterService
{
    /// <summary>How long a client may take to complete the join before the stream is dropped.</summary>
    public static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How the status detail of a session ended because a newer session of its worker id joined begins (with
    /// <see cref="StatusCode.Aborted"/>). A worker reads it on a stream it still had open, so the newer session is not
    /// its own reconnect but a second process running with its id: it stops rather than rejoin, which would in turn
    /// end the other one's session, and so on for ever.
    /// </summary>
    public const string ReplacedReason = "replaced";

    private readonly GrpcTransport _transport;
    private readonly AuthorizedKeys _keys;
    private readonly ClusterMetrics _metrics;
    private readonly ILogger<ParameterService> _log;
    private readonly ConfigFingerprint _contract;

    /// <summary>Creates the service over a transport, the registered worker keys and the run's config fingerprint.</summary>
    public ParameterService(GrpcTransport transport, AuthorizedKeys keys, ClusterMetrics metrics, ConfigFingerprint contract, ILogger<ParameterService> log)
    {
        _transport = transport;
        _keys = keys;
        _metrics = metrics;
        _contract = contract;
        _log = log;
    }

    /// <summary>One worker's <c>Session</c> stream (bound by <see cref="SessionMethodProvider"/>).</summary>
    /// <remarks>
    /// A failure that is not already a gRPC status (a message body that does not decode, a broken stream) ends the call
    /// with <see cref="StatusCode.InvalidArgument"/> and one warning line, never an error with a stack trace.
    /// </remarks>
    internal async Task Session(IAsyncStreamReader<WorkerEnvelope> requestStream, IServerStreamWriter<ServerMessage> responseStream,
        ServerCallContext context)
    {
        try
        {
            await RunSessionAsync(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            _metrics.RecordRefused("malformed");
            _transport.Monitor.JoinRefused("malformed", null, context.Peer);
            _log.LogWarning("stream from {Peer} ended: {Kind}: {Message}", context.Peer, e.GetType().Name, e.Message.ReplaceLineEndings(" "));
            throw new RpcException(new Status(StatusCode.InvalidArgument, "malformed message: " + e.Message.ReplaceLineEndings(" ")));
        }
    }

    private async Task RunSessionAsync(IAsyncStreamReader<WorkerEnvelope> requestStream, IServerStreamWriter<ServerMessage> responseStream,
        ServerCallContext context)
    {
        var peer = context.Peer;
        if (_transport.Stopping)
        {
            // Not a refusal of the worker: it retries and rejoins the resumed server.
            throw new RpcException(new Status(StatusCode.Unavailable, "the server is stopping"));
        }

        int workerId;
        using (var joinTimer = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken))
        {
            joinTimer.CancelAfter(JoinTimeout);
            try
            {
                workerId = await AuthenticateAsync(requestStream, responseStream, peer, joinTimer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
            {
                throw Refuse(StatusCode.Unauthenticated, "join-timeout", peer, null, $"no valid join within {JoinTimeout.TotalSeconds} s");
            }
        }

        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var session = new WorkerSession(workerId, lifetime, peer);
        var uploadToken = _transport.Uploads.Open(session);
        try
        {
            await responseStream.WriteAsync(new ServerMessage
            {
                Welcome = new Welcome
                {
                    WorkerId = workerId,
                    Dimension = _transport.Dimension,
                    WorkerCount = _transport.WorkerCount,
                    UploadToken = Google.Protobuf.ByteString.CopyFrom(uploadToken),
                },
            }).ConfigureAwait(false);
        }
        catch
        {
            _transport.Uploads.Close(session);
            throw;
        }

        var replaced = _transport.Attach(session);
        _transport.Monitor.Joined(workerId, peer);
        _log.LogInformation("worker {Worker} joined from {Peer}", workerId, peer);
        if (replaced is not null)
        {
            _log.LogInformation("worker {Worker}: its open session from {Old} is ended for the new one from {Peer} (a reconnect, or a second process with this id)",
                workerId, replaced.Peer, peer);
        }

        var writer = WriteAllAsync(session, responseStream, lifetime.Token);
        try
        {
            while (await requestStream.MoveNext(lifetime.Token).ConfigureAwait(false))
            {
                var message = requestStream.Current;
                if (message.Gradient is { } gradient)
                {
                    await _transport.ReceiveAsync(session, gradient, lifetime.Token).ConfigureAwait(false);
                }
                else
                {
                    _metrics.RecordDropped(workerId, "malformed");
                    session.Send(new ServerMessage
                    {
                        Outcome = new Outcome
                        {
                            Kind = OutcomeKind.Rejected,
                            Reason = $"malformed: unexpected {message.BodyCase} message after the join; only gradients are accepted",
                        },
                    });
                }
            }
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
        {
            // Replaced by a newer session of the same worker, or the client went away.
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
        {
            // gRPC refused a message larger than 4·d + slack from its length prefix, before buffering it.
            _metrics.RecordDropped(workerId, "malformed");
            _transport.Monitor.GradientRefused(GradientRefusals.Oversized, workerId);
            _log.LogWarning("worker {Worker} sent a message larger than the model: {Detail}", workerId, e.Status.Detail);
            throw;
        }
        catch (IOException e)
        {
            _log.LogInformation("worker {Worker} stream broke: {Message}", workerId, e.Message);
        }
        finally
        {
            _transport.Uploads.Close(session);
            var left = _transport.Detach(session);
            session.Outbox.Writer.TryComplete();
            if (left && _transport.ShortHanded() is { } shortHanded)
            {
                _log.LogWarning("worker {Worker} left; {State}", workerId, shortHanded);
            }
            else
            {
                _log.LogInformation("worker {Worker} left", workerId);
            }
        }

        // Let queued messages (Finished, last outcomes) go out before the call completes.
        try
        {
            await writer.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
        }

        // Said to the replaced stream, so that a worker still reading it knows another process holds its id.
        if (session.ReplacedBy is { } newer && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Aborted,
                $"{ReplacedReason}: worker {workerId} joined again from {newer.Peer}"));
        }
    }

    private async Task<int> AuthenticateAsync(IAsyncStreamReader<WorkerEnvelope> requests, IServerStreamWriter<ServerMessage> responses,
        string peer, CancellationToken cancellationToken)
    {
        if (!await requests.MoveNext(cancellationToken).ConfigureAwait(false) || requests.Current.BodyCase != WorkerMessage.BodyOneofCase.Hello)
        {
            throw Refuse(StatusCode.Unauthenticated, "unauthenticated", peer, null, "the first message must be Hello");
        }

        var workerId = requests.Current.Message!.Hello.WorkerId;
        var contract = requests.Current.Message!.Hello.Contract;
        var key = _keys.Find(workerId);
        if (key is null)
        {
            throw Refuse(StatusCode.PermissionDenied, "unregistered", peer, workerId, $"worker id {workerId} is not in the authorized-keys file");
        }

        if (workerId >= _transport.WorkerCount)
        {
            throw Refuse(StatusCode.PermissionDenied, "unregistered", peer, workerId,
                $"worker id {workerId} is outside this run's workers 0..{_transport.WorkerCount - 1}");
        }

        var nonce = JoinChallenge.NewNonce();
        var time = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await responses.WriteAsync(new ServerMessage
        {
            Challenge = new Challenge { Nonce = Google.Protobuf.ByteString.CopyFrom(nonce), ServerTimeUnixMs = time },
        }, cancellationToken).ConfigureAwait(false);

        if (!await requests.MoveNext(cancellationToken).ConfigureAwait(false) || requests.Current.BodyCase != WorkerMessage.BodyOneofCase.Proof)
        {
            throw Refuse(StatusCode.Unauthenticated, "unauthenticated", peer, workerId, "expected Proof after the challenge");
        }

        if (!JoinChallenge.Verify(key, nonce, workerId, time, requests.Current.Message!.Proof.Signature.Span))
        {
            throw Refuse(StatusCode.PermissionDenied, "bad-signature", peer, workerId,
                "the signature does not verify with this worker's registered key (forged, replayed or another worker's key)");
        }

        // Checked only once the worker proved who it is, so the server's settings are never told to a stranger.
        if (_contract.Differences(contract) is { Count: > 0 } differences)
        {
            throw Refuse(StatusCode.FailedPrecondition, "config-mismatch", peer, workerId,
                $"the worker's config differs from the server's on {differences.Count} key(s) (server ≠ worker): {string.Join("; ", differences)}");
        }

        return workerId;
    }

    private RpcException Refuse(StatusCode code, string reason, string peer, int? workerId, string detail)
    {
        _metrics.RecordRefused(reason);
        _transport.Monitor.JoinRefused(reason, workerId, peer);
        _log.LogWarning("refused join from {Peer} (claimed worker {Worker}): {Reason}: {Detail}", peer, workerId?.ToString() ?? "-", reason, detail);
        return new RpcException(new Status(code, $"{reason}: {detail}"));
    }

    /// <summary>
    /// Drains the session's outbox in order, x_t as the newest version when its turn comes. Messages queued together (a round's outcomes and the next parameters) go
    /// out in one flush: each is written without flushing while another is already waiting, the last with a flush.
    /// </summary>
    private static async Task WriteAllAsync(WorkerSession session, IServerStreamWriter<ServerMessage> responses, CancellationToken cancellationToken)
    {
        var reader = session.Outbox.Reader;
        var buffered = new WriteOptions(WriteFlags.BufferHint);
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var queued))
            {
                if ((ReferenceEquals(queued, WorkerSession.ParametersMarker) ? session.TakeWaitingParameters() : queued) is not { } message)
                {
                    continue;
                }

                responses.WriteOptions = reader.TryPeek(out _) ? buffered : null;
                await responses.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

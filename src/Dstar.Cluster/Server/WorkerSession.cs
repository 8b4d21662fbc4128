using System.Threading.Channels;
using Dstar.Cluster.Protocol;

namespace Dstar.Cluster.Server;

/// <summary>
/// One authenticated worker stream. Everything the server sends to the worker goes through <see cref="Outbox"/>,
/// drained by a single writer task, because a gRPC response stream allows one writer at a time.
/// </summary>
internal sealed class WorkerSession
{
    public WorkerSession(int workerId, CancellationTokenSource lifetime, string peer = "unknown")
    {
        WorkerId = workerId;
        Lifetime = lifetime;
        Peer = peer;
        UploadLifetime = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token);
    }

    /// <summary>The id the stream proved it holds the key of; every gradient on it is attributed to this id.</summary>
    public int WorkerId { get; }

    /// <summary>Where the stream comes from (gRPC's peer string).</summary>
    public string Peer { get; }

    /// <summary>
    /// The session that replaced this one (<see cref="GrpcTransport.Attach"/>): a newer session of the same worker id,
    /// which is the worker reconnecting or a second process running as that worker; null while it has not happened.
    /// </summary>
    public WorkerSession? ReplacedBy { get; set; }

    /// <summary>Cancelled when the session ends or a newer session of the same worker replaces it.</summary>
    public CancellationTokenSource Lifetime { get; }

    /// <summary>Messages waiting to be written to the worker, in order.</summary>
    public Channel<ServerMessage> Outbox { get; } = Channel.CreateUnbounded<ServerMessage>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>
    /// Cancelled when the session's upload connections must end: with <see cref="Lifetime"/>, or as soon as the stream
    /// stops reading (<see cref="GradientUploads.Close"/>), while the last outcomes may still be going out.
    /// </summary>
    public CancellationTokenSource UploadLifetime { get; }

    /// <summary>The first 8 bytes of this session's upload token (<see cref="GradientUploads"/>), once issued.</summary>
    public ulong? UploadKey { get; set; }

    /// <summary>Upload connections open now (changed with <see cref="Interlocked"/> by <see cref="GradientUploads"/>).</summary>
    public int UploadConnections;

    /// <summary>
    /// Where x_t and the outcomes of accepted or late gradients go when the worker has an upload connection open: its
    /// newest one's queue, else null and they go on the stream.
    /// </summary>
    public UploadDownlink? Downlink;

    /// <summary>Ends the session: its stream (and so its upload connections) closes once the queued messages are written.</summary>
    public void End()
    {
        Lifetime.Cancel();
        Outbox.Writer.TryComplete();
    }

    /// <summary>Queues a message; false when the session has ended.</summary>
    public bool Send(ServerMessage message) => Outbox.Writer.TryWrite(message);

    /// <summary>The newest parameter version queued on the stream (−1: none), kept under the transport's publish lock.</summary>
    public long StreamParametersVersion { get; private set; } = -1;

    /// <summary>
    /// Queues a <c>Parameters</c> message: on the newest upload connection when there is one, else on the stream.
    /// Called under the transport's publish lock.
    /// </summary>
    public bool SendParameters(ServerMessage message)
    {
        if (Volatile.Read(ref Downlink)?.TryQueueParameters(message) == true)
        {
            return true;
        }

        StreamParametersVersion = Math.Max(StreamParametersVersion, message.Parameters.Version);

        // Only the newest x_t waits on the stream, as on the upload connection: a worker that reads slowly, or not at
        // all (a suspended process, a stalled link), must not make the server keep every round's 4·d bytes for it.
        if (Interlocked.Exchange(ref _waitingParameters, message) is not null)
        {
            return true; // replaced an older version still waiting: its marker in the outbox now stands for this one
        }

        if (Send(ParametersMarker))
        {
            return true;
        }

        Interlocked.CompareExchange(ref _waitingParameters, null, message);
        return false;
    }

    /// <summary>Stands in the outbox for the newest x_t waiting on the stream (<see cref="TakeWaitingParameters"/>).</summary>
    public static readonly ServerMessage ParametersMarker = new();

    private ServerMessage? _waitingParameters;

    /// <summary>The newest x_t queued on the stream, for the writer that read <see cref="ParametersMarker"/>; null if none waits.</summary>
    public ServerMessage? TakeWaitingParameters() => Interlocked.Exchange(ref _waitingParameters, null);

    /// <summary>
    /// Queues a gradient's outcome: a rejection on the stream at once; kept, filtered or late with the next x_t on the
    /// newest upload connection when there is one (<see cref="UploadDownlink"/>), else on the stream.
    /// </summary>
    public bool SendOutcome(Outcome outcome)
    {
        if (outcome.Kind != OutcomeKind.Rejected && Volatile.Read(ref Downlink) is { } downlink)
        {
            if (outcome.CalculateSize() > Wire.UploadFrames.MaxOutcomeLength)
            {
                // A reason is a line of text; one that does not fit a frame is cut (a UTF-16 unit is at most 3 bytes).
                outcome.Reason = outcome.Reason[..((Wire.UploadFrames.MaxOutcomeLength / 3) - 32)];
            }

            if (downlink.TryQueueOutcome(outcome))
            {
                return true;
            }
        }

        return Send(new ServerMessage { Outcome = outcome });
    }
}

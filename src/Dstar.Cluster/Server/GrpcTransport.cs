using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Dstar.Cluster.Observability;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Wire;
using Dstar.Engine.Collection;
using Dstar.Engine.Server;
using Dstar.Engine.Transport;

namespace Dstar.Cluster.Server;

/// <summary>
/// The Engine's <see cref="ITransport"/> over gRPC: <see cref="PublishAsync"/> pushes x_t to every connected worker
/// session (and to any worker that joins later), and gradients received on the sessions become
/// <see cref="Arrival"/>s stamped with wall-clock seconds since the publish. The transport judges nothing itself
/// (the Engine's <see cref="RoundCollector"/> does) except bytes that cannot be float32 values at all.
/// </summary>
/// <remarks>
/// <para>Outcomes: the server hands the collector's verdict on each arrival to <see cref="Judged"/>; a drop goes back
/// to the worker at once as LATE (late, stale) or REJECTED (duplicate, malformed), and an accepted gradient learns
/// KEPT or DROPPED from <see cref="ReportRound"/> after the rule ran.</para>
/// <para>Memory: a gradient is decoded straight from the received HTTP/2 buffers into a pooled receive buffer
/// (<see cref="SessionMarshaller"/>), which returns to the pool once the collector has copied it into its batch; the
/// arrival queue is bounded (4 per worker), so a flooding worker is slowed by back-pressure on its own stream instead
/// of growing the server's memory.</para>
/// </remarks>
public sealed class GrpcTransport : ITransport, IWorkerTimings
{
    private readonly Channel<Incoming> _arrivals;
    private readonly ConcurrentDictionary<int, WorkerSession> _sessions = new();
    private readonly object _publishGate = new();
    private readonly Stopwatch _roundClock = new();
    private ServerMessage? _current;
    private readonly (long Version, double Compute, double Local)[] _reported;

    /// <summary>
    /// Free receive buffers kept between rounds: the round loop copies each gradient out as soon as it reads it, so a
    /// few suffice; more in flight at once are allocated and left to the GC.
    /// </summary>
    private const int ReceiveBuffersRetained = 4;

    /// <summary>Creates a transport for N workers and a model of d parameters, whose gradients arrive in <paramref name="wire"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N or d is not positive.</exception>
    public GrpcTransport(int workerCount, int dimension, ClusterMetrics metrics, IClusterMonitor? monitor = null, WireFormat wire = WireFormat.Float32)
    {
        Monitor = monitor ?? NoClusterMonitor.Instance;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        WorkerCount = workerCount;
        Dimension = dimension;
        Metrics = metrics;
        Wire = wire;
        Buffers = new GradientBufferPool(dimension, ReceiveBuffersRetained);
        Uploads = new GradientUploads(this, metrics);
        _reported = new (long, double, double)[workerCount];
        Array.Fill(_reported, (-1L, 0.0, 0.0));
        _arrivals = Channel.CreateBounded<Incoming>(new BoundedChannelOptions(4 * workerCount)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <inheritdoc />
    public int WorkerCount { get; }

    /// <summary>d: floats per gradient.</summary>
    public int Dimension { get; }

    /// <inheritdoc />
    public bool UsesVirtualTime => false;

    /// <summary>How workers encode gradients (the config's <c>wire</c>); the transport decodes to float32.</summary>
    public WireFormat Wire { get; }

    /// <summary>The receive buffers gradients are decoded into (see <see cref="SessionMarshaller"/>).</summary>
    internal GradientBufferPool Buffers { get; }

    /// <summary>The sessions' upload channel: gradients as raw frames on a second connection (<see cref="GradientUploads"/>).</summary>
    internal GradientUploads Uploads { get; }

    /// <summary>The metrics the transport counts drops and outcomes in.</summary>
    public ClusterMetrics Metrics { get; }

    /// <summary>Told of joins, leaves, arrivals and refusals (the live view's cluster panel); a no-op by default.</summary>
    public IClusterMonitor Monitor { get; }

    /// <summary>How many connected workers a round needs (null: not said, as with <c>k: auto</c>); see <see cref="ShortHanded"/>.</summary>
    internal RoundQuorum? Quorum { get; init; }

    /// <summary>
    /// While training, why rounds wait with the workers connected now (fewer than <see cref="Quorum"/>); null when they
    /// close as usual, before the first round, after the last and while stopping.
    /// </summary>
    internal string? ShortHanded()
    {
        lock (_publishGate)
        {
            return Stopping || _interrupted || _current is not { BodyCase: ServerMessage.BodyOneofCase.Parameters } ? null : Quorum?.ShortHanded(_sessions.Count, WorkerCount);
        }
    }

    private bool _interrupted;

    /// <summary>
    /// The run is being stopped (SIGTERM, Ctrl+C): workers leaving now (<c>dstar launch</c> stops its own) are no news,
    /// so <see cref="ShortHanded"/> says nothing from here on.
    /// </summary>
    internal void Interrupted()
    {
        lock (_publishGate)
        {
            _interrupted = true;
        }
    }

    /// <summary>The number of worker sessions open now.</summary>
    public int ConnectedCount => _sessions.Count;

    /// <summary>Worker <paramref name="worker"/>'s open session, or null.</summary>
    internal WorkerSession? Session(int worker) => _sessions.GetValueOrDefault(worker);

    /// <summary>The version of the parameters last published, or −1 before the first.</summary>
    public long CurrentVersion { get; private set; } = -1;

    /// <inheritdoc />
    public ValueTask PublishAsync(long version, ReadOnlyMemory<float> parameters, CancellationToken cancellationToken = default)
    {
        if (parameters.Length != Dimension)
        {
            throw new ArgumentException($"the transport serves a model of d = {Dimension}, got {parameters.Length} parameters", nameof(parameters));
        }

        var message = new ServerMessage { Parameters = new Parameters { Version = version, Data = FloatWire.Encode(parameters.Span) } };
        lock (_publishGate)
        {
            _current = message;
            CurrentVersion = version;
            _roundClock.Restart();
            foreach (var session in _sessions.Values)
            {
                session.SendParameters(message);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<Arrival> ReadArrivalsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = _arrivals.Reader;
        float[]? lent = null;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var incoming))
                {
                    lent = incoming.Pooled;
                    yield return new Arrival(incoming.Worker, incoming.Version, incoming.Gradient, incoming.Time);

                    // The consumer moved on: the collector has copied what it keeps, so the buffer is free again.
                    Release(lent);
                    lent = null;
                }
            }
        }
        finally
        {
            Release(lent);
        }
    }

    private void Release(float[]? buffer)
    {
        if (buffer is not null)
        {
            Buffers.Return(buffer);
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> worker sessions are open (polled every 50 ms).</summary>
    public async Task WaitForWorkersAsync(int count, CancellationToken cancellationToken)
    {
        while (ConnectedCount < count)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After a round: tells each accepted worker whether the rule kept or filtered its gradient, and counts it.
    /// </summary>
    public void ReportRound(RoundEvent round)
    {
        foreach (var worker in round.KeptWorkers)
        {
            Metrics.RecordKept(worker);
            SendOutcome(worker, round.Round, OutcomeKind.Kept, "");
        }

        foreach (var worker in round.FilteredWorkers)
        {
            Metrics.RecordDropped(worker, "filtered");
            SendOutcome(worker, round.Round, OutcomeKind.Dropped, $"filtered out by {round.Rule}");
        }
    }

    /// <summary>Sends <see cref="Finished"/> to every session and completes their outboxes.</summary>
    public void Finish(long rounds)
    {
        lock (_publishGate)
        {
            _current = new ServerMessage { Finished = new Finished { Rounds = rounds } };
            foreach (var session in _sessions.Values)
            {
                // The last round's outcomes, which wait for an x_t that will not come.
                Volatile.Read(ref session.Downlink)?.Flush();
                session.Send(_current);
                session.Outbox.Writer.TryComplete();
            }
        }
    }

    /// <summary>
    /// True once <see cref="EndSessions"/> ran: the server is stopping, and a worker that rejoins at once is turned
    /// away (or its session ended as soon as it is attached), so that no new stream holds up the host's stop.
    /// </summary>
    public bool Stopping { get; private set; }

    /// <summary>
    /// Ends every open session (their streams and upload connections) without telling the workers the run is over:
    /// what a stopped server does, so that its host can stop at once; the workers reconnect to a resumed server.
    /// </summary>
    public void EndSessions()
    {
        lock (_publishGate)
        {
            Stopping = true;
            foreach (var session in _sessions.Values)
            {
                session.End();
            }
        }
    }

    /// <summary>
    /// Registers an authenticated session, replacing (and ending) an older session of the same worker, and queues
    /// the current parameters so a reconnecting worker starts on x_t at once. Returns the session replaced, if any.
    /// </summary>
    internal WorkerSession? Attach(WorkerSession session)
    {
        lock (_publishGate)
        {
            if (Stopping)
            {
                session.End();
                return null;
            }

            if (_sessions.TryGetValue(session.WorkerId, out var old))
            {
                old.ReplacedBy = session;
                old.End();
            }
            else
            {
                Metrics.AddConnected(1);
            }

            _sessions[session.WorkerId] = session;
            if (_current is not null)
            {
                if (_current.BodyCase == ServerMessage.BodyOneofCase.Parameters)
                {
                    session.SendParameters(_current);
                }
                else
                {
                    session.Send(_current);
                }

                if (_current.BodyCase == ServerMessage.BodyOneofCase.Finished)
                {
                    session.Outbox.Writer.TryComplete();
                }
            }

            return old;
        }
    }

    /// <summary>
    /// After an upload connection of <paramref name="session"/> ended, having written x_t up to
    /// <paramref name="writtenVersion"/>: queues the current x_t on the stream if the worker has it from neither, so
    /// that a connection lost mid-write never leaves a live session without the round's parameters.
    /// </summary>
    internal void ResendParameters(WorkerSession session, long writtenVersion)
    {
        lock (_publishGate)
        {
            if (_current is { BodyCase: ServerMessage.BodyOneofCase.Parameters } current
                && _sessions.TryGetValue(session.WorkerId, out var attached) && ReferenceEquals(attached, session)
                && current.Parameters.Version > writtenVersion && current.Parameters.Version > session.StreamParametersVersion)
            {
                session.SendParameters(current);
            }
        }
    }

    /// <summary>
    /// After an upload connection of <paramref name="session"/> opened: queues the current x_t on it as well, since a
    /// worker with an upload connection takes x_t from it alone (the copy its stream got on joining is not used).
    /// </summary>
    internal void SendCurrentParameters(WorkerSession session)
    {
        lock (_publishGate)
        {
            if (_current is { BodyCase: ServerMessage.BodyOneofCase.Parameters } current
                && _sessions.TryGetValue(session.WorkerId, out var attached) && ReferenceEquals(attached, session))
            {
                session.SendParameters(current);
            }
        }
    }

    /// <summary>Removes a session if it is still the worker's current one; false when a newer one had replaced it.</summary>
    internal bool Detach(WorkerSession session)
    {
        lock (_publishGate)
        {
            if (_sessions.TryGetValue(session.WorkerId, out var current) && ReferenceEquals(current, session))
            {
                _sessions.TryRemove(session.WorkerId, out _);
                Metrics.AddConnected(-1);
                Monitor.Left(session.WorkerId);
                return true;
            }

            return false;
        }
    }

    /// <summary>
    /// Takes a gradient received on <paramref name="session"/>. Bytes that are not a whole number of float32 values are
    /// refused here (they cannot become an arrival); everything else is queued for the collector to judge. The size
    /// was already bounded by gRPC's receive limit (4·d plus framing).
    /// </summary>
    internal async ValueTask ReceiveAsync(WorkerSession session, ReceivedGradient gradient, CancellationToken cancellationToken)
    {
        Monitor.Received(session.WorkerId);
        if (gradient.Malformed is { } why)
        {
            Metrics.RecordDropped(session.WorkerId, "malformed");
            Monitor.GradientRefused(GradientRefusals.NotFloat32, session.WorkerId);
            SendOutcome(session.WorkerId, gradient.Version, OutcomeKind.Rejected, $"malformed: {why}");
            return;
        }

        Incoming incoming;
        lock (_publishGate)
        {
            var time = _roundClock.Elapsed.TotalSeconds;
            if (gradient.LocalSeconds > 0 && double.IsFinite(gradient.LocalSeconds) && double.IsFinite(gradient.ComputeSeconds) && gradient.ComputeSeconds >= 0)
            {
                _reported[session.WorkerId] = (gradient.Version, gradient.ComputeSeconds, gradient.LocalSeconds);
            }

            // Stamped and queued together, so the collector reads arrivals in the order of their times (sessions and
            // upload connections deliver on threads of their own); only a full queue (a flood) waits outside the lock.
            incoming = new Incoming(session.WorkerId, gradient.Version, gradient.Values, gradient.Pooled, time);
            if (_arrivals.Writer.TryWrite(incoming))
            {
                return;
            }
        }

        try
        {
            await _arrivals.Writer.WriteAsync(incoming, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Release(gradient.Pooled);
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>The worker's own report, sent with its gradient: diagnostics, which a Byzantine worker may falsify.</remarks>
    public (double ComputeSeconds, double LocalSeconds)? WorkerTiming(int worker, long version)
    {
        if ((uint)worker >= (uint)_reported.Length)
        {
            return null;
        }

        lock (_publishGate)
        {
            var (reportedVersion, compute, local) = _reported[worker];
            return reportedVersion == version ? (compute, local) : null;
        }
    }

    /// <summary>
    /// Tells the worker a dropped gradient's verdict at once; an accepted one learns kept or filtered from
    /// <see cref="ReportRound"/>.
    /// </summary>
    public void Judged(in Arrival arrival, Drop? verdict)
    {
        if (verdict is { } drop)
        {
            var reason = drop.Reason.Name();
            Metrics.RecordDropped(arrival.Worker, reason);
            if (GradientRefusals.Of(drop) is { } refusal)
            {
                Monitor.GradientRefused(refusal, arrival.Worker);
            }

            var kind = drop.Reason is DropReason.Late or DropReason.Stale ? OutcomeKind.Late : OutcomeKind.Rejected;
            SendOutcome(arrival.Worker, arrival.Version, kind, $"{reason}: {drop.Detail}");
        }
    }

    private void SendOutcome(int worker, long version, OutcomeKind kind, string reason)
    {
        if (_sessions.TryGetValue(worker, out var session))
        {
            session.SendOutcome(new Outcome { Version = version, Kind = kind, Reason = reason });
        }
    }

    private readonly record struct Incoming(int Worker, long Version, ReadOnlyMemory<float> Gradient, float[]? Pooled, double Time);
}

using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Dstar.Cluster.Observability;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Wire;
using Dstar.Engine.Transport;
using Google.Protobuf;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using WireFormat = Dstar.Engine.Transport.WireFormat;

namespace Dstar.Cluster.Server;

/// <summary>
/// The server's end of the upload channel (<see cref="UploadFrames"/>): a second connection bound to a worker's session
/// that carries its gradients up as raw frames and x_t down, served on the session's own port by a Kestrel connection
/// middleware that takes a connection whose first byte is 0 and hands every other one to HTTP unchanged.
/// </summary>
/// <remarks>
/// <para>Why: .NET's HTTP/2 client writes a 4 MB message as about 250 DATA frames of 16 KiB, each its own send call,
/// and Kestrel copies every frame's payload into the stream's pipe; a gradient on the session stream cost three times
/// the CPU of the same bytes on a socket (docs/benchmarks.md, "Gradient push over loopback"). On the upload channel the
/// payload is decoded straight from the connection's receive buffers into a pooled row of d floats. x_t takes the
/// newest upload connection of a session instead of the stream (only the latest version is queued); if that connection
/// breaks, the worker rejoins and gets x_t on its new stream.</para>
/// <para>Security: a session's token is 32 random bytes, sent only in its <c>Welcome</c> (so under TLS whenever the
/// session is) and valid only while the session is open; a connection is attributed to the session whose token it
/// presents, so a worker can upload only as itself, exactly as on its stream. The token is found by its first 8 bytes
/// and then compared in constant time. A refused opening is answered <c>refused: REASON</c> (also after the client
/// half-closed), counted in <c>dstar_refused_connections_total</c> (bad-token, malformed, unauthenticated,
/// too-many-uploads) and logged through a <see cref="RefusalLog"/>: at once for an address's first, summed up for its
/// repeats within a minute. A payload longer than a gradient is refused from its header before any of it is read
/// (counted as malformed, as gRPC's receive limit does on the stream, and logged), and the connection is closed. A worker has at most
/// <see cref="MaxConnectionsPerSession"/> upload connections at once; each reads one gradient at a time and waits on the
/// bounded arrival queue, so a flooding worker is slowed by back-pressure on its own connections. The opening must
/// arrive within <see cref="OpeningTimeout"/>.</para>
/// </remarks>
internal sealed class GradientUploads
{
    /// <summary>Upload connections one session may have open at once (a reconnecting worker may briefly hold two).</summary>
    public const int MaxConnectionsPerSession = 2;

    /// <summary>How long a connection may take to send its first byte, and an upload connection its whole opening.</summary>
    public static readonly TimeSpan OpeningTimeout = ParameterService.JoinTimeout;

    private readonly ConcurrentDictionary<ulong, Entry> _open = new();
    private readonly GrpcTransport _transport;
    private readonly ClusterMetrics _metrics;

    /// <summary>The upload channel of the sessions of <paramref name="transport"/>.</summary>
    public GradientUploads(GrpcTransport transport, ClusterMetrics metrics)
    {
        _transport = transport;
        _metrics = metrics;
    }

    /// <summary>Issues <paramref name="session"/>'s token (<see cref="UploadFrames.TokenLength"/> random bytes); valid until <see cref="Close"/>.</summary>
    public byte[] Open(WorkerSession session)
    {
        while (true)
        {
            var token = RandomNumberGenerator.GetBytes(UploadFrames.TokenLength);
            var key = BinaryPrimitives.ReadUInt64LittleEndian(token);
            if (_open.TryAdd(key, new Entry(token, session)))
            {
                session.UploadKey = key;
                return token;
            }
        }
    }

    /// <summary>Revokes <paramref name="session"/>'s token and ends its open upload connections.</summary>
    public void Close(WorkerSession session)
    {
        session.UploadLifetime.Cancel();
        if (session.UploadKey is { } key && _open.TryGetValue(key, out var entry) && ReferenceEquals(entry.Session, session))
        {
            _open.TryRemove(new KeyValuePair<ulong, Entry>(key, entry));
        }
    }

    /// <summary>
    /// The connection middleware: upload connections are served here, all others go on to <paramref name="next"/>.
    /// Refusals are logged through <paramref name="refusals"/> (once per peer address and minute, the rest summed up),
    /// everything else to <paramref name="log"/>.
    /// </summary>
    public ConnectionDelegate Middleware(ConnectionDelegate next, RefusalLog refusals, ILogger log) => connection => HandleAsync(connection, next, refusals, log);

    private async Task HandleAsync(ConnectionContext connection, ConnectionDelegate next, RefusalLog refusals, ILogger log)
    {
        var input = connection.Transport.Input;
        ReadResult first;

        // Not ended by ConnectionClosed: Kestrel signals it as soon as the peer half-closes, while the bytes it sent
        // before are still to be read (an opening followed by a FIN is an opening, and is answered). A connection that
        // ends or breaks completes the pipe, which ends the read.
        using (var timer = CancellationTokenSource.CreateLinkedTokenSource(ClosingRequested(connection)))
        {
            timer.CancelAfter(OpeningTimeout);
            try
            {
                first = await input.ReadAsync(timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Silent for OpeningTimeout: an HTTP client sends its request (or HTTP/2 preface) at once.
                connection.Abort(new ConnectionAbortedException("no bytes within the opening timeout"));
                return;
            }
            catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException)
            {
                // Gone before its first byte.
                return;
            }
        }

        if (first.Buffer.IsEmpty && first.IsCompleted)
        {
            // Closed without sending a byte: neither upload nor HTTP.
            input.AdvanceTo(first.Buffer.End);
            return;
        }

        var upload = first.Buffer.Length > 0 && first.Buffer.First.Span.Length > 0 && first.Buffer.First.Span[0] == UploadFrames.Preface[0];

        // Nothing consumed or examined: HTTP reads the same bytes at once.
        input.AdvanceTo(first.Buffer.Start);
        if (!upload)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        try
        {
            await ServeAsync(connection, refusals, log).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException)
        {
            // The worker went away, its session ended, or the server is stopping.
        }
    }

    private async Task ServeAsync(ConnectionContext connection, RefusalLog refusals, ILogger log)
    {
        var input = connection.Transport.Input;
        var peer = connection.RemoteEndPoint?.ToString() ?? "unknown";
        WorkerSession? session;

        // As for the first byte: a half-closed connection's opening is read and answered, not dropped unlogged.
        var closing = ClosingRequested(connection);
        using (var timer = CancellationTokenSource.CreateLinkedTokenSource(closing))
        {
            timer.CancelAfter(OpeningTimeout);
            ReadResult opening;
            try
            {
                opening = await input.ReadAtLeastAsync(UploadFrames.OpeningLength, timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!closing.IsCancellationRequested)
            {
                await RefuseAsync(connection, "unauthenticated", null, peer, $"no upload opening within {OpeningTimeout.TotalSeconds} s", refusals).ConfigureAwait(false);
                return;
            }

            if (opening.Buffer.Length < UploadFrames.OpeningLength)
            {
                await RefuseAsync(connection, "malformed", null, peer, "the connection ended inside the upload opening", refusals).ConfigureAwait(false);
                return;
            }

            var bytes = new byte[UploadFrames.OpeningLength];
            opening.Buffer.Slice(0, UploadFrames.OpeningLength).CopyTo(bytes);
            input.AdvanceTo(opening.Buffer.GetPosition(UploadFrames.OpeningLength));
            if (!bytes.AsSpan(0, UploadFrames.Preface.Length).SequenceEqual(UploadFrames.Preface))
            {
                await RefuseAsync(connection, "malformed", null, peer, "not an upload preface", refusals).ConfigureAwait(false);
                return;
            }

            session = Find(bytes.AsSpan(UploadFrames.Preface.Length));
            if (session is null || session.UploadLifetime.IsCancellationRequested)
            {
                await RefuseAsync(connection, "bad-token", null, peer, "the token is not that of an open session", refusals).ConfigureAwait(false);
                return;
            }
        }

        if (Interlocked.Increment(ref session.UploadConnections) > MaxConnectionsPerSession)
        {
            Interlocked.Decrement(ref session.UploadConnections);
            await RefuseAsync(connection, "too-many-uploads", session.WorkerId, peer,
                $"worker {session.WorkerId} already has {MaxConnectionsPerSession} upload connections open", refusals).ConfigureAwait(false);
            return;
        }

        var output = new SemaphoreSlim(1, 1);
        var downlink = new UploadDownlink();
        var written = new WrittenVersion();
        Task? writer = null;
        try
        {
            // Ends with the session, and when the server shuts down (Kestrel asks each connection to close; a
            // connection middleware that kept reading would hold the shutdown until its timeout).
            using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(session.UploadLifetime.Token, ClosingRequested(connection));
            var cancellation = lifetime.Token;
            await using var abort = cancellation.Register(() => connection.Abort(new ConnectionAbortedException("the worker's session ended or the server is stopping")));
            await AnswerAsync(connection, UploadFrames.Accepted, output, connection.ConnectionClosed).ConfigureAwait(false);
            _metrics.RecordUploadOpened();
            log.LogInformation("worker {Worker} opened an upload connection from {Peer}", session.WorkerId, peer);

            // From now on x_t and the per-round outcomes go down this connection (the newest of the session's), not the stream.
            writer = WriteDownAsync(connection, downlink, output, written, cancellation);
            Volatile.Write(ref session.Downlink, downlink);
            _transport.SendCurrentParameters(session);
            var header = new byte[UploadFrames.HeaderLength];
            while (await ReceiveOneAsync(connection, session, header, log, cancellation).ConfigureAwait(false))
            {
            }
        }
        finally
        {
            Interlocked.CompareExchange(ref session.Downlink, null, downlink);
            downlink.Complete();
            if (writer is not null)
            {
                // The connection is done; a writer blocked on a peer that stopped reading must not hold this up.
                connection.Abort(new ConnectionAbortedException("the upload connection is closing"));
                try
                {
                    await writer.ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
                {
                    // The connection went away under the writer.
                }
            }

            // x_t goes on the stream again; the worker gets the current one there unless this connection delivered it.
            _transport.ResendParameters(session, written.Version);
            Interlocked.Decrement(ref session.UploadConnections);
        }
    }

    /// <summary>
    /// Writes what <paramref name="downlink"/> queues: the waiting outcomes as <see cref="UploadFrames.DownKind.Outcome"/>
    /// frames, then x_t as a <see cref="UploadFrames.DownKind.Parameters"/> frame (the header (version, 0, 4·d) and the
    /// float32 values), flushed as one write when x_t is small and in pieces of at most <see cref="WriteChunk"/> bytes
    /// otherwise, so that the connection's output buffer stays bounded; records each version once its last byte is flushed.
    /// </summary>
    private static async Task WriteDownAsync(ConnectionContext connection, UploadDownlink downlink, SemaphoreSlim output,
        WrittenVersion written, CancellationToken cancellationToken)
    {
        var header = new byte[UploadFrames.HeaderLength];
        var outcomes = new List<Outcome>();
        var pipe = connection.Transport.Output;
        while (true)
        {
            var (any, message) = await downlink.TakeAsync(outcomes, cancellationToken).ConfigureAwait(false);
            if (!any)
            {
                return;
            }

            await output.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var outcome in outcomes)
                {
                    var size = outcome.CalculateSize();
                    UploadFrames.Write(new UploadFrames.DownHeader(outcome.Version, UploadFrames.DownKind.Outcome, size), pipe.GetSpan(UploadFrames.HeaderLength));
                    pipe.Advance(UploadFrames.HeaderLength);
                    outcome.WriteTo(pipe.GetSpan(size)[..size]);
                    pipe.Advance(size);
                }

                // A flush that reports the connection completed means the bytes went nowhere: the version is not delivered.
                FlushResult flushed;
                if (message is null)
                {
                    flushed = await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (flushed.IsCompleted || flushed.IsCanceled)
                    {
                        return;
                    }

                    continue;
                }

                var data = message.Parameters.Data.Memory;
                UploadFrames.Write(new UploadFrames.DownHeader(message.Parameters.Version, UploadFrames.DownKind.Parameters, data.Length), header);
                pipe.Write(header);
                var offset = 0;
                do
                {
                    var piece = Math.Min(WriteChunk, data.Length - offset);
                    pipe.Write(data.Span.Slice(offset, piece));
                    offset += piece;
                    flushed = await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                while (offset < data.Length && !(flushed.IsCompleted || flushed.IsCanceled));

                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    return;
                }
            }
            finally
            {
                output.Release();
            }

            written.Version = message.Parameters.Version;
        }
    }

    /// <summary>The newest parameter version an upload connection has written whole (−1: none).</summary>
    private sealed class WrittenVersion
    {
        public long Version { get; set; } = -1;
    }

    /// <summary>Bytes of x_t written (and flushed) at a time on an upload connection.</summary>
    private const int WriteChunk = 1 << 20;

    /// <summary>Reads one gradient and hands it to the transport; false when the connection ends or was refused.</summary>
    private async Task<bool> ReceiveOneAsync(ConnectionContext connection, WorkerSession session, byte[] headerBytes, ILogger log, CancellationToken cancellationToken)
    {
        var input = connection.Transport.Input;
        var result = await input.ReadAtLeastAsync(UploadFrames.HeaderLength, cancellationToken).ConfigureAwait(false);
        if (result.Buffer.Length < UploadFrames.HeaderLength)
        {
            // A clean end between gradients, or a connection cut inside a header: either way nothing to judge.
            input.AdvanceTo(result.Buffer.End);
            return false;
        }

        result.Buffer.Slice(0, UploadFrames.HeaderLength).CopyTo(headerBytes);
        input.AdvanceTo(result.Buffer.GetPosition(UploadFrames.HeaderLength));
        var header = UploadFrames.Read(headerBytes);

        var wire = _transport.Wire;
        var size = wire.BytesPerValue();
        var expected = (long)_transport.Dimension * size;
        if (header.PayloadLength < 0 || header.PayloadLength > expected)
        {
            // Refused from the header, like gRPC's receive limit on the stream: the payload is never read.
            _metrics.RecordDropped(session.WorkerId, "malformed");
            _transport.Monitor.GradientRefused(GradientRefusals.Oversized, session.WorkerId);
            // After "ok" the server sends only parameter frames, so the refusal is the connection's end (and this log line).
            log.LogWarning("worker {Worker} announced an upload of {Length} bytes, more than a gradient ({Expected}); closing the upload connection",
                session.WorkerId, header.PayloadLength, expected);
            return false;
        }

        if (ReceivedGradient.NotWholeValues(header.Version, header.PayloadLength, wire, _transport.Dimension, header.ComputeSeconds, header.LocalSeconds) is { } refused)
        {
            if (!await SkipAsync(input, header.PayloadLength, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            await _transport.ReceiveAsync(session, refused, cancellationToken).ConfigureAwait(false);
            return true;
        }

        var count = (int)(header.PayloadLength / size);
        var (values, pooled) = _transport.Buffers.RentFor(count);
        var handed = false;
        try
        {
            if (!await DecodeAsync(input, wire, values, count, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            handed = true;
            await _transport.ReceiveAsync(session, new ReceivedGradient(header.Version, values.AsMemory(0, count), pooled, null,
                header.ComputeSeconds, header.LocalSeconds), cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            if (!handed && pooled is not null)
            {
                _transport.Buffers.Return(pooled);
            }
        }
    }

    /// <summary>
    /// Decodes <paramref name="count"/> values from <paramref name="input"/> into <paramref name="values"/> as their bytes
    /// arrive (a value split between two reads waits for its rest); false when the connection ends first.
    /// </summary>
    private static async Task<bool> DecodeAsync(PipeReader input, WireFormat wire, float[] values, int count, CancellationToken cancellationToken)
    {
        var size = wire.BytesPerValue();
        var written = 0;
        while (written < count)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var available = Math.Min(buffer.Length / size, count - written);
            if (available == 0)
            {
                if (result.IsCompleted)
                {
                    input.AdvanceTo(buffer.End);
                    return false;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            var slice = buffer.Slice(0, available * size);
            GradientCodec.Decode(wire, slice, values.AsSpan(written, (int)available));
            written += (int)available;
            input.AdvanceTo(slice.End);
        }

        return true;
    }

    /// <summary>Reads and discards <paramref name="length"/> bytes; false when the connection ends first.</summary>
    private static async Task<bool> SkipAsync(PipeReader input, long length, CancellationToken cancellationToken)
    {
        while (length > 0)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var take = Math.Min(result.Buffer.Length, length);
            input.AdvanceTo(result.Buffer.GetPosition(take));
            length -= take;
            if (length > 0 && result.IsCompleted)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Cancelled when Kestrel asks <paramref name="connection"/> to close (a graceful shutdown).</summary>
    private static CancellationToken ClosingRequested(ConnectionContext connection) =>
        connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;

    private WorkerSession? Find(ReadOnlySpan<byte> token)
    {
        return _open.TryGetValue(BinaryPrimitives.ReadUInt64LittleEndian(token), out var entry)
            && CryptographicOperations.FixedTimeEquals(entry.Token, token)
            ? entry.Session
            : null;
    }

    /// <summary>
    /// Counts and logs a refused opening (the log line at most once per address and window, <see cref="RefusalLog"/>)
    /// and answers it. The answer is written even when the peer has half-closed (it may still read), for at most
    /// <see cref="OpeningTimeout"/> on a peer that does not read.
    /// </summary>
    private async Task RefuseAsync(ConnectionContext connection, string reason, int? workerId, string peer, string detail, RefusalLog refusals)
    {
        _metrics.RecordRefused(reason);
        _transport.Monitor.JoinRefused(reason, workerId, peer);
        refusals.Refused((connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address.ToString() ?? peer, peer, reason, detail);
        try
        {
            using var timeout = new CancellationTokenSource(OpeningTimeout);
            await AnswerAsync(connection, $"refused: {reason}: {detail}", null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ConnectionResetException or ConnectionAbortedException)
        {
        }
    }

    /// <summary>Writes one answer line, holding <paramref name="output"/> (when x_t may be going out at the same time).</summary>
    private static async Task AnswerAsync(ConnectionContext connection, string line, SemaphoreSlim? output, CancellationToken cancellationToken)
    {
        // Characters, not bytes, are cut: a UTF-8 character is at most 4 bytes, so the line with its newline fits the bound.
        var text = line.ReplaceLineEndings(" ");
        text = text[..Math.Min(text.Length, (UploadFrames.MaxAnswerLength / 4) - 1)];
        if (output is not null)
        {
            await output.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await connection.Transport.Output.WriteAsync(Encoding.UTF8.GetBytes(text + "\n"), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            output?.Release();
        }
    }

    private sealed record Entry(byte[] Token, WorkerSession Session);
}

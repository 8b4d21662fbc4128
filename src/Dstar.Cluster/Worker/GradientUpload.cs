using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Wire;
using Dstar.Engine.Transport;

namespace Dstar.Cluster.Worker;

/// <summary>
/// A worker's upload channel (<see cref="UploadFrames"/>): a second connection to the server's address, opened with the
/// session's <c>Welcome.upload_token</c>, on which each gradient goes up as a header and its encoded values in one
/// write, and x_t and per-round outcomes come down (<see cref="ReadDown(byte[])"/>). Over TLS when the server's address is https, checking
/// its certificate as the session's channel does. One sender and one reader may use it at once.
/// </summary>
public sealed class GradientUpload : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly byte[] _frame;
    private readonly DownReader _down;

    private GradientUpload(Socket socket, Stream stream, int dimension, WireFormat wire)
    {
        _socket = socket;
        _stream = stream;
        Dimension = dimension;
        Wire = wire;
        _frame = GC.AllocateUninitializedArray<byte>(UploadFrames.HeaderLength + (dimension * wire.BytesPerValue()));
        _down = new DownReader(stream, dimension);
    }

    /// <summary>d: the values of every gradient sent.</summary>
    public int Dimension { get; }

    /// <summary>How values are encoded.</summary>
    public WireFormat Wire { get; }

    /// <summary>
    /// Connects to <paramref name="server"/> (its host and port; TLS for https, trusting <paramref name="caCertificatePath"/>
    /// or else the system store) and presents <paramref name="token"/>.
    /// </summary>
    /// <exception cref="UploadRefusedException">the server answered with a refusal (the message says why).</exception>
    /// <exception cref="IOException">the connection failed or the server broke the protocol.</exception>
    /// <exception cref="SocketException">the server could not be reached.</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">the server's certificate is not trusted.</exception>
    public static async Task<GradientUpload> OpenAsync(Uri server, ReadOnlyMemory<byte> token, string? caCertificatePath, int dimension, WireFormat wire,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (token.Length != UploadFrames.TokenLength)
        {
            throw new ArgumentException($"an upload token is {UploadFrames.TokenLength} bytes, got {token.Length}", nameof(token));
        }

        // Opened with blocking calls on a pool thread, so that the socket stays in blocking mode: .NET turns a socket
        // non-blocking for good at its first asynchronous call, and then emulates every blocking call through its
        // epoll thread, which doubled the context switches of the worker's round loop (UploadLoop).
        var certificate = server.Scheme == Uri.UriSchemeHttps && caCertificatePath is not null ? WorkerConnection.LoadCaCertificate(caCertificatePath) : null;
        return await Task.Run(() => Open(server, token, certificate, dimension, wire, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private static GradientUpload Open(Uri server, ReadOnlyMemory<byte> token, System.Security.Cryptography.X509Certificates.X509Certificate2? ca, int dimension,
        WireFormat wire, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(OpeningTimeout);

        // A blocking call has no cancellation token: the timer ends it by closing the socket under it.
        using var abort = timer.Token.Register(socket.Dispose);
        try
        {
            socket.Connect(server.IdnHost, server.Port);
            stream = new NetworkStream(socket, ownsSocket: false);
            if (server.Scheme == Uri.UriSchemeHttps)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                tls.AuthenticateAsClient(new SslClientAuthenticationOptions
                {
                    TargetHost = server.IdnHost,
                    RemoteCertificateValidationCallback = ca is null ? null : WorkerConnection.TrustOnly(ca),
                });
            }

            var opening = new byte[UploadFrames.OpeningLength];
            UploadFrames.Preface.CopyTo(opening);
            token.Span.CopyTo(opening.AsSpan(UploadFrames.Preface.Length));
            stream.Write(opening);
            var answer = ReadAnswer(stream);
            if (answer != UploadFrames.Accepted)
            {
                throw answer.StartsWith("refused: ", StringComparison.Ordinal)
                    ? new UploadRefusedException(answer["refused: ".Length..])
                    : new IOException($"the server answered the upload opening with '{answer}'");
            }

            return new GradientUpload(socket, stream, dimension, wire);
        }
        catch (Exception e) when (timer.IsCancellationRequested && e is not OperationCanceledException)
        {
            stream?.Dispose();
            socket.Dispose();
            throw new OperationCanceledException(cancellationToken.IsCancellationRequested
                ? "the upload opening was cancelled"
                : $"the upload opening took longer than {OpeningTimeout.TotalSeconds} s", e, timer.Token);
        }
        catch
        {
            stream?.Dispose();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>How long connecting, the TLS handshake and the server's answer may take together.</summary>
    public static readonly TimeSpan OpeningTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Sends <paramref name="gradient"/> as the gradient for <paramref name="version"/>, with the worker's account of its
    /// time; returns once the bytes are written (the caller may then reuse the memory). Its outcome comes down this
    /// connection with a later x_t, or on the session stream if it is rejected.
    /// </summary>
    /// <exception cref="ArgumentException">the gradient does not have d values.</exception>
    /// <exception cref="IOException">the connection broke (the session ended, or the server refused the frame and closed it).</exception>
    public async Task SendAsync(long version, ReadOnlyMemory<float> gradient, CancellationToken cancellationToken, double computeSeconds = 0, double localSeconds = 0)
    {
        await _stream.WriteAsync(Frame(version, gradient.Span, computeSeconds, localSeconds), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="SendAsync"/> on the calling thread: blocks until the bytes are written (the worker's loop on a thread
    /// of its own, which a round then wakes once instead of handing its work through the thread pool).
    /// </summary>
    /// <exception cref="ArgumentException">the gradient does not have d values.</exception>
    /// <exception cref="IOException">the connection broke.</exception>
    public void Send(long version, ReadOnlySpan<float> gradient, double computeSeconds = 0, double localSeconds = 0)
    {
        _stream.Write(Frame(version, gradient, computeSeconds, localSeconds));
    }

    /// <summary>The frame of one gradient in the reused buffer: its header and its values encoded in the run's wire format.</summary>
    /// <exception cref="ArgumentException">the gradient does not have d values.</exception>
    private byte[] Frame(long version, ReadOnlySpan<float> gradient, double computeSeconds, double localSeconds)
    {
        if (gradient.Length != Dimension)
        {
            throw new ArgumentException($"the upload sends gradients of d = {Dimension} values, got {gradient.Length}", nameof(gradient));
        }

        var payload = _frame.Length - UploadFrames.HeaderLength;
        UploadFrames.Write(new UploadFrames.Header(version, computeSeconds, localSeconds, payload), _frame);
        GradientCodec.Encode(Wire, gradient, _frame.AsSpan(UploadFrames.HeaderLength));
        return _frame;
    }

    /// <summary>
    /// The next frame the server sends, read on the calling thread (<see cref="UploadFrames.DownKind"/>): x_version,
    /// read into <paramref name="parameters"/> (its d little-endian float32 values, 4·d bytes), which the frame then
    /// refers to until the next read; or the outcome of a gradient a round accepted or found late. Null when the server
    /// closed the connection (or <see cref="Abort"/> ended it).
    /// </summary>
    /// <exception cref="IOException">the connection broke, or the server sent a frame that is not x_t of d values or an outcome.</exception>
    public DownFrame? ReadDown(byte[] parameters) => _down.Read(parameters);

    /// <summary>True when bytes from the server wait unread, read ahead or on the socket (a newer frame has come).</summary>
    /// <remarks>Under TLS, bytes the TLS layer has already taken off the socket are not counted.</remarks>
    public bool HasUnread => _down.HasBuffered || _socket.Available > 0;

    /// <summary>Blocks until bytes from the server wait unread, the connection ends, or <paramref name="timeout"/> passes; true unless it passed.</summary>
    public bool WaitForUnread(TimeSpan timeout) => _down.HasBuffered || _socket.Poll(timeout, SelectMode.SelectRead);

    /// <summary>Ends the connection at once: a <see cref="ReadDown(byte[])"/> blocked on another thread returns or throws.</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    /// <summary>The server's answer line (without its newline), read byte by byte up to <see cref="UploadFrames.MaxAnswerLength"/>.</summary>
    private static string ReadAnswer(Stream stream)
    {
        var line = new byte[UploadFrames.MaxAnswerLength];
        for (var length = 0; length < line.Length; length++)
        {
            if (stream.Read(line.AsSpan(length, 1)) == 0)
            {
                throw new IOException(length == 0
                    ? "the server closed the upload connection without answering (a proxy that speaks only HTTP in between?)"
                    : $"the server closed the upload connection inside its answer '{Encoding.UTF8.GetString(line, 0, length)}'");
            }

            if (line[length] == (byte)'\n')
            {
                return Encoding.UTF8.GetString(line, 0, length);
            }
        }

        throw new IOException($"the server's answer to the upload opening is longer than {UploadFrames.MaxAnswerLength} bytes");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}

/// <summary>A frame the server sent down an upload connection: x_version (<see cref="Parameters"/>, d little-endian float32 values) or an outcome.</summary>
/// <param name="Version">The parameter version, or the version of the gradient the outcome is for.</param>
/// <param name="Parameters">x_version's bytes, or null for an outcome.</param>
/// <param name="Outcome">The outcome, or null for parameters.</param>
public readonly record struct DownFrame(long Version, byte[]? Parameters, Outcome? Outcome);

/// <summary>The server refused an upload connection; the message is its reason (for example <c>bad-token: …</c>).</summary>
public sealed class UploadRefusedException(string reason) : IOException($"the server refused the upload connection: {reason}")
{
    /// <summary>The server's reason.</summary>
    public string Reason { get; } = reason;
}

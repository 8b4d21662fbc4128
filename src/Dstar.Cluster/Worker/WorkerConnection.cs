using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Cluster.Wire;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dstar.Cluster.Worker;

/// <summary>
/// A joined worker session: the gRPC call after the challenge–response succeeded, with the server's
/// <see cref="Welcome"/>. The caller owns the call and disposes it.
/// </summary>
public sealed class WorkerConnection : IDisposable
{
    /// <summary>The largest HTTP/2 stream receive window .NET's client accepts by default: 16 MiB.</summary>
    private const int MaxClientStreamWindow = 16 * 1024 * 1024;

    private WorkerConnection(AsyncDuplexStreamingCall<WorkerRequest, ServerMessage> call, Welcome welcome)
    {
        Call = call;
        Welcome = welcome;
    }

    /// <summary>The open stream.</summary>
    public AsyncDuplexStreamingCall<WorkerRequest, ServerMessage> Call { get; }

    /// <summary>What the server said on joining (d, N).</summary>
    public Welcome Welcome { get; }

    /// <summary>How long a connection to the server (TCP and TLS) may take before the attempt fails and is retried.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A channel to <paramref name="server"/>. With https, the server certificate must chain to
    /// <paramref name="caCertificatePath"/> when given (a private CA, the usual case for a cluster), else to the system
    /// trust store. Received messages may be as large as a parameter vector of any size (the server is trusted). Given
    /// the model's <paramref name="dimension"/>, the HTTP/2 receive window holds one parameter message (at most 16 MiB,
    /// the client's limit), so the server can push x_t without waiting for window updates. <paramref name="check"/>, when
    /// given, checks the certificate instead of a check of its own, so that the caller can later ask why it refused one.
    /// </summary>
    public static GrpcChannel CreateChannel(string server, string? caCertificatePath, int? dimension = null, ServerCertificateCheck? check = null)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            // A server that vanished without closing its connections (a stopped pod whose network went first) is
            // noticed within 10 s: the session stream and the worker's next join both ride this connection.
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),

            // A join tried while the server's host is gone (a restarting pod: no refusal comes back, SYNs go
            // unanswered) fails after this and is retried, instead of waiting out the kernel's SYN retries.
            ConnectTimeout = ConnectTimeout,
        };
        if (dimension is { } d)
        {
            handler.InitialHttp2StreamWindowSize = (int)Math.Clamp((long)d * FloatWire.BytesPerValue + 1024, handler.InitialHttp2StreamWindowSize, MaxClientStreamWindow);
        }

        check ??= caCertificatePath is null ? null : new ServerCertificateCheck(LoadCaCertificate(caCertificatePath));
        if (check is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = check.Validate };
        }

        return GrpcChannel.ForAddress(server, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        });
    }

    /// <summary>
    /// Accepts a server certificate only when it chains to <paramref name="ca"/> (a private CA) and names the host
    /// connected to; revocation is not checked (a private CA publishes no lists).
    /// </summary>
    public static RemoteCertificateValidationCallback TrustOnly(X509Certificate2 ca) => (_, certificate, _, errors) =>
        ServerCertificateCheck.Judge(ca, certificate, errors) == SslPolicyErrors.None;

    /// <summary>
    /// Opens a session, proves the identity <paramref name="workerId"/> with <paramref name="key"/> and presents
    /// <paramref name="contract"/> (the worker's <c>ConfigFingerprint</c> values), which must match the server's.
    /// </summary>
    /// <exception cref="RpcException">the server refused the join (PermissionDenied / Unauthenticated, or FailedPrecondition for a config that differs, with the reason) or is unreachable.</exception>
    /// <exception cref="InvalidDataException">the server broke the protocol.</exception>
    public static async Task<WorkerConnection> JoinAsync(GrpcChannel channel, int workerId, ECDsa key, IReadOnlyDictionary<string, string> contract,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contract);
        var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(WorkerRequest.SessionMethod, null, new CallOptions(cancellationToken: cancellationToken));
        try
        {
            var hello = new Hello { WorkerId = workerId };
            foreach (var (name, value) in contract)
            {
                hello.Contract.Add(name, value);
            }

            await call.RequestStream.WriteAsync(new WorkerMessage { Hello = hello }, cancellationToken).ConfigureAwait(false);
            var challenge = await ExpectAsync(call, ServerMessage.BodyOneofCase.Challenge, cancellationToken).ConfigureAwait(false);
            var signature = JoinChallenge.Sign(key, challenge.Challenge.Nonce.Span, workerId, challenge.Challenge.ServerTimeUnixMs);
            await call.RequestStream.WriteAsync(new WorkerMessage { Proof = new Proof { Signature = Google.Protobuf.ByteString.CopyFrom(signature) } },
                cancellationToken).ConfigureAwait(false);
            var welcome = await ExpectAsync(call, ServerMessage.BodyOneofCase.Welcome, cancellationToken).ConfigureAwait(false);
            return new WorkerConnection(call, welcome.Welcome);
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    /// <summary>Reads the next message and checks its kind.</summary>
    /// <exception cref="RpcException">the server ended the call with an error status.</exception>
    /// <exception cref="InvalidDataException">the stream ended or another kind of message came.</exception>
    public static async Task<ServerMessage> ExpectAsync(AsyncDuplexStreamingCall<WorkerRequest, ServerMessage> call, ServerMessage.BodyOneofCase kind,
        CancellationToken cancellationToken)
    {
        if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidDataException($"the server closed the stream while the worker expected {kind}.");
        }

        var message = call.ResponseStream.Current;
        return message.BodyCase == kind
            ? message
            : throw new InvalidDataException($"the server sent {message.BodyCase} while the worker expected {kind}.");
    }

    /// <summary>
    /// True when <paramref name="failure"/> (or what caused it) is a failed TLS handshake: the worker refused the server's
    /// certificate (not from the trusted CA, or not for the host), or the server does not speak TLS at all
    /// (<see cref="ServerCertificateCheck.Explain"/> says which).
    /// </summary>
    public static bool IsUntrustedServer(Exception failure) => Causes(failure).Any(e => e is System.Security.Authentication.AuthenticationException);

    /// <summary>
    /// <paramref name="failure"/> and what caused it, outermost first: each exception's inner one, and for a gRPC error
    /// the exception behind its status (<c>DebugException</c>), where the transport's own error is kept.
    /// </summary>
    internal static IEnumerable<Exception> Causes(Exception failure)
    {
        for (Exception? e = failure; e is not null; e = e is RpcException rpc && rpc.Status.DebugException is { } inner ? inner : e.InnerException)
        {
            yield return e;
        }
    }

    /// <summary>
    /// What to tell the user when an <c>http://</c> <paramref name="server"/> failed as <paramref name="failure"/> because
    /// the peer did not answer the HTTP/2 preface (the way a server serving TLS answers plain text), else null. Not a
    /// reason to stop retrying (something else may briefly hold the port), but the likely fix when it goes on.
    /// </summary>
    public static string? PlainHttpHint(string server, Exception failure)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            return null;
        }

        return Causes(failure).Any(e => e is HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse } or HttpIOException { HttpRequestError: HttpRequestError.InvalidResponse })
            ? "the server did not answer as plain HTTP/2: a server with TLS, started without --insecure, is reached with https://"
            : null;
    }

    /// <summary>Loads the CA certificate (PEM or DER).</summary>
    /// <exception cref="InvalidDataException">the file is not a certificate; the message names it.</exception>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="IOException">the path is a directory.</exception>
    public static X509Certificate2 LoadCaCertificate(string path)
    {
        Configuration.OptionFiles.RequireFile($"--ca-cert '{path}'", path);

        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"--ca-cert '{path}' is not a PEM or DER certificate: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public void Dispose() => Call.Dispose();
}

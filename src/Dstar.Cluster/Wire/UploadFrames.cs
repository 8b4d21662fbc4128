using System.Buffers.Binary;

namespace Dstar.Cluster.Wire;

/// <summary>
/// The upload channel's bytes (docs/cluster.md, "The upload channel"). A worker opens a second connection to the
/// server's address (TLS when the server uses it) and sends <see cref="Preface"/> then its session's 32-byte
/// <c>Welcome.upload_token</c>; the server answers one line, <c>ok\n</c> or <c>refused: REASON\n</c> (and closes).
/// Then each gradient is a <see cref="HeaderLength"/>-byte header — version (int64), compute seconds (float64), local
/// seconds (float64), payload length in bytes (int64), all little-endian — followed by the payload: the values in the
/// run's wire format, as <c>Gradient.data</c> holds them.
/// </summary>
/// <remarks>
/// <para>After <c>ok</c> the server sends down the session's newest upload connection, as frames whose header of the
/// same length holds version (int64), kind (<see cref="DownKind"/>, int64), 8 zero bytes and payload length (int64):
/// <list type="bullet">
/// <item><see cref="DownKind.Parameters"/>: x_version, d little-endian float32 values, instead of on the stream;</item>
/// <item><see cref="DownKind.Outcome"/>: a protobuf <c>Outcome</c> (at most <see cref="MaxOutcomeLength"/> bytes) of a
/// gradient the round accepted (kept or filtered) or found late, sent with the next x_t rather than at once. A rejected
/// gradient's outcome still goes on the stream, at once.</item>
/// </list>
/// A frame the server refuses ends the connection, so nothing else comes down.</para>
/// <para>The preface's first byte is 0, which neither an HTTP/1.1 request line nor the HTTP/2 connection preface
/// (<c>PRI * HTTP/2.0</c>, RFC 9113 §3.4) can start with, so the server tells an upload connection from an HTTP one
/// by its first byte and serves both on one port.</para>
/// </remarks>
public static class UploadFrames
{
    /// <summary>The first 8 bytes of an upload connection: 0, then "dstar-u1" without its last byte.</summary>
    public static ReadOnlySpan<byte> Preface => [0x00, (byte)'d', (byte)'s', (byte)'t', (byte)'a', (byte)'r', (byte)'u', (byte)'1'];

    /// <summary>Bytes of a session's upload token.</summary>
    public const int TokenLength = 32;

    /// <summary>Bytes the worker sends before its first gradient: the preface and the token.</summary>
    public const int OpeningLength = 8 + TokenLength;

    /// <summary>Bytes of a gradient's header.</summary>
    public const int HeaderLength = 32;

    /// <summary>The server's answer to an accepted opening.</summary>
    public const string Accepted = "ok";

    /// <summary>The longest answer line the server sends, in bytes (a worker reads no further).</summary>
    public const int MaxAnswerLength = 512;

    /// <summary>The longest <c>Outcome</c> frame payload the server sends, in bytes (its reason is cut to fit).</summary>
    public const int MaxOutcomeLength = 1024;

    /// <summary>What a frame the server sends down an upload connection carries.</summary>
    public enum DownKind : long
    {
        /// <summary>x_version as d little-endian float32 values.</summary>
        Parameters = 0,

        /// <summary>A protobuf <c>Outcome</c>.</summary>
        Outcome = 1,
    }

    /// <summary>A down frame's header fields.</summary>
    /// <param name="Version">The parameter version, or the version of the gradient the outcome is for.</param>
    /// <param name="Kind">What the payload is.</param>
    /// <param name="PayloadLength">Bytes that follow.</param>
    public readonly record struct DownHeader(long Version, DownKind Kind, long PayloadLength);

    /// <summary>Writes <paramref name="header"/> into the first <see cref="HeaderLength"/> bytes of <paramref name="destination"/>.</summary>
    public static void Write(in DownHeader header, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, header.Version);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], (long)header.Kind);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], header.PayloadLength);
    }

    /// <summary>Reads a down frame's header from the first <see cref="HeaderLength"/> bytes of <paramref name="source"/>.</summary>
    public static DownHeader ReadDown(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadInt64LittleEndian(source),
        (DownKind)BinaryPrimitives.ReadInt64LittleEndian(source[8..]),
        BinaryPrimitives.ReadInt64LittleEndian(source[24..]));

    /// <summary>A gradient's header fields.</summary>
    /// <param name="Version">The version the gradient was computed at.</param>
    /// <param name="ComputeSeconds">The worker's seconds computing it (0: not reported).</param>
    /// <param name="LocalSeconds">The worker's seconds from receiving x_version to sending it (0: not reported).</param>
    /// <param name="PayloadLength">Bytes of values that follow.</param>
    public readonly record struct Header(long Version, double ComputeSeconds, double LocalSeconds, long PayloadLength);

    /// <summary>Writes <paramref name="header"/> into the first <see cref="HeaderLength"/> bytes of <paramref name="destination"/>.</summary>
    public static void Write(in Header header, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, header.Version);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[8..], header.ComputeSeconds);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[16..], header.LocalSeconds);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], header.PayloadLength);
    }

    /// <summary>Reads a header from the first <see cref="HeaderLength"/> bytes of <paramref name="source"/>.</summary>
    public static Header Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadInt64LittleEndian(source),
        BinaryPrimitives.ReadDoubleLittleEndian(source[8..]),
        BinaryPrimitives.ReadDoubleLittleEndian(source[16..]),
        BinaryPrimitives.ReadInt64LittleEndian(source[24..]));
}

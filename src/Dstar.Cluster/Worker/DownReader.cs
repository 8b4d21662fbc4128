using Dstar.Cluster.Protocol;
using Dstar.Cluster.Wire;

namespace Dstar.Cluster.Worker;

/// <summary>
/// Reads the frames the server sends down an upload connection (<see cref="UploadFrames.DownKind"/>) through a buffer of
/// its own, so that one round's write (the waiting outcomes and x_t, which the server flushes together) costs the worker
/// one read from the socket rather than two per frame. A payload larger than the buffer goes straight into the caller's
/// array. Not thread-safe: one reader at a time.
/// </summary>
internal sealed class DownReader
{
    /// <summary>The buffer's size at most; x_t beyond it is read into the caller's array directly.</summary>
    public const int MaxBufferLength = 64 * 1024;

    private readonly Stream _stream;
    private readonly int _dimension;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;

    /// <param name="stream">The connection (or any stream of down frames).</param>
    /// <param name="dimension">d: every x_t is d little-endian float32 values.</param>
    public DownReader(Stream stream, int dimension)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        _stream = stream;
        _dimension = dimension;

        // Room for x_t and two outcomes when that is small: a round's write then comes off the socket in one read.
        var round = UploadFrames.HeaderLength + ((long)dimension * FloatWire.BytesPerValue) + (2L * (UploadFrames.HeaderLength + UploadFrames.MaxOutcomeLength));
        _buffer = new byte[(int)Math.Clamp(round, 4096, MaxBufferLength)];
    }

    /// <summary>True when bytes already read from the stream wait to be parsed.</summary>
    public bool HasBuffered => _end > _start;

    /// <summary>
    /// The next frame: x_version read into <paramref name="parameters"/> (4·d bytes; the frame refers to it until the
    /// next read), or an outcome. Null when the stream ended between frames.
    /// </summary>
    /// <exception cref="IOException">the stream ended inside a frame, or the server sent a frame that is not x_t of d values or an outcome that fits.</exception>
    public DownFrame? Read(byte[] parameters)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(parameters.Length, _dimension * FloatWire.BytesPerValue, nameof(parameters));
        if (!Fill(UploadFrames.HeaderLength))
        {
            if (!HasBuffered)
            {
                return null;
            }

            throw new IOException("the server closed the upload connection inside a frame's header");
        }

        var header = Checked(UploadFrames.ReadDown(_buffer.AsSpan(_start, UploadFrames.HeaderLength)));
        _start += UploadFrames.HeaderLength;
        if (header.Kind == UploadFrames.DownKind.Parameters)
        {
            var buffered = Math.Min(_end - _start, parameters.Length);
            _buffer.AsSpan(_start, buffered).CopyTo(parameters);
            _start += buffered;
            _stream.ReadExactly(parameters.AsSpan(buffered));
            return new DownFrame(header.Version, parameters, null);
        }

        var length = (int)header.PayloadLength;
        if (!Fill(length))
        {
            throw new EndOfStreamException($"the server closed the upload connection inside an outcome frame of {length} bytes");
        }

        var outcome = OutcomeOf(_buffer.AsSpan(_start, length));
        _start += length;
        return new DownFrame(header.Version, null, outcome);
    }

    /// <summary>Reads until at least <paramref name="count"/> bytes (at most the buffer's size) are buffered; false when the stream ends first.</summary>
    private bool Fill(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_buffer.Length - _start < count)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        while (_end - _start < count)
        {
            var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }

    /// <summary>The header, checked: x_t of d values or an outcome that fits.</summary>
    /// <exception cref="IOException">a frame the server should not send (the message names it).</exception>
    private UploadFrames.DownHeader Checked(UploadFrames.DownHeader frame)
    {
        var expected = (long)_dimension * FloatWire.BytesPerValue;
        return frame.Kind switch
        {
            UploadFrames.DownKind.Parameters when frame.PayloadLength == expected => frame,
            UploadFrames.DownKind.Parameters =>
                throw new IOException($"the server sent a parameter frame of {frame.PayloadLength} bytes on the upload connection, expected {expected}"),
            UploadFrames.DownKind.Outcome when frame.PayloadLength is >= 0 and <= UploadFrames.MaxOutcomeLength => frame,
            UploadFrames.DownKind.Outcome =>
                throw new IOException($"the server sent an outcome frame of {frame.PayloadLength} bytes, more than {UploadFrames.MaxOutcomeLength}"),
            _ => throw new IOException($"the server sent a frame of unknown kind {(long)frame.Kind} on the upload connection"),
        };
    }

    private static Outcome OutcomeOf(ReadOnlySpan<byte> body)
    {
        try
        {
            return Outcome.Parser.ParseFrom(body);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new IOException($"the server sent an outcome frame that is not an Outcome: {e.Message}", e);
        }
    }
}

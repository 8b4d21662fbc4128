using System.Buffers;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Wire;
using Google.Protobuf;
using WireFormat = Dstar.Cluster.Wire.WireFormat;
using Grpc.Core;

namespace Dstar.Cluster.Server;

/// <summary>
/// The server's decoding of the <c>Session</c> stream. Protobuf's own parser copies a <c>bytes</c> field into a new
/// array (4·d bytes per gradient, a large-object allocation every push); this one decodes a gradient's payload (in the
/// run's <see cref="WireFormat"/>) straight from the received HTTP/2 buffers into a pooled float buffer, the only copy
/// before the collector's. It accepts
/// exactly what <c>dstar.proto</c> defines: a message that is not in the plain encoding a protobuf writer produces
/// for a gradient (field 3 holding fields 1 and 2 at most once each, nothing else) goes through protobuf's parser
/// instead, so any valid encoding decodes to the same gradient, and an invalid one fails as protobuf fails.
/// </summary>
internal sealed class SessionMarshaller
{
    // Tags: (field number << 3) | wire type; 0 = varint, 2 = length-delimited.
    private const uint GradientTag = (3 << 3) | 2;
    private const uint VersionTag = (1 << 3) | 0;
    private const uint DataTag = (2 << 3) | 2;

    private readonly GradientBufferPool _buffers;
    private readonly WireFormat _wire;

    /// <summary>A marshaller that decodes gradients sent in <paramref name="wire"/> into buffers of <paramref name="buffers"/>.</summary>
    public SessionMarshaller(GradientBufferPool buffers, WireFormat wire = WireFormat.Float32)
    {
        _buffers = buffers;
        _wire = wire;
        Requests = Marshallers.Create<WorkerEnvelope>(
            (_, _) => throw new NotSupportedException("the server only reads worker messages"),
            Deserialize);
    }

    /// <summary>Worker → server messages.</summary>
    public Marshaller<WorkerEnvelope> Requests { get; }

    /// <summary>Server → worker messages: plain protobuf, written into the response buffer without an intermediate array.</summary>
    public static Marshaller<ServerMessage> Responses { get; } = Marshallers.Create<ServerMessage>(
        (message, context) =>
        {
            context.SetPayloadLength(message.CalculateSize());
            message.WriteTo(context.GetBufferWriter());
            context.Complete();
        },
        context => ServerMessage.Parser.ParseFrom(context.PayloadAsReadOnlySequence()));

    /// <summary>Decodes one message (see the class remarks).</summary>
    /// <exception cref="InvalidProtocolBufferException">the bytes are not a <c>WorkerMessage</c>.</exception>
    public WorkerEnvelope Deserialize(DeserializationContext context) => Deserialize(context.PayloadAsReadOnlySequence());

    /// <inheritdoc cref="Deserialize(DeserializationContext)"/>
    public WorkerEnvelope Deserialize(ReadOnlySequence<byte> payload)
    {
        if (TryReadPlainGradient(payload, out var version, out var data))
        {
            return WorkerEnvelope.Of(Decode(version, data));
        }

        var message = WorkerMessage.Parser.ParseFrom(payload);
        return message.BodyCase == WorkerMessage.BodyOneofCase.Gradient
            ? WorkerEnvelope.Of(Decode(message.Gradient.Version, new ReadOnlySequence<byte>(message.Gradient.Data.Memory)))
            : WorkerEnvelope.Of(message);
    }

    /// <summary>The values of <paramref name="data"/>, decoded to float32, in a pooled buffer when there are exactly d of them.</summary>
    private ReceivedGradient Decode(long version, ReadOnlySequence<byte> data)
    {
        var size = _wire.BytesPerValue();
        if (data.Length % size != 0)
        {
            return new ReceivedGradient(version, ReadOnlyMemory<float>.Empty, null,
                $"{data.Length} bytes is not a whole number of {_wire.Name()} values (expected {_buffers.Dimension * (long)size})");
        }

        // The length is bounded by gRPC's receive limit (d values plus framing), so a wrong one costs at most one small array.
        var count = (int)(data.Length / size);
        var pooled = count == _buffers.Dimension ? _buffers.Rent() : null;
        var values = pooled ?? new float[count];
        GradientCodec.Decode(_wire, data, values.AsSpan(0, count));
        return new ReceivedGradient(version, values.AsMemory(0, count), pooled, null);
    }

    /// <summary>
    /// True for exactly <c>WorkerMessage{gradient = Gradient{version?, data?}}</c> with each field at most once and
    /// nothing else, in any field order; then the version and the payload's place in <paramref name="payload"/>.
    /// </summary>
    internal static bool TryReadPlainGradient(ReadOnlySequence<byte> payload, out long version, out ReadOnlySequence<byte> data)
    {
        version = 0;
        data = ReadOnlySequence<byte>.Empty;
        var reader = new SequenceReader<byte>(payload);
        if (!TryReadVarint(ref reader, out var tag) || tag != GradientTag
            || !TryReadVarint(ref reader, out var length) || length != (ulong)reader.Remaining)
        {
            return false;
        }

        bool haveVersion = false, haveData = false;
        while (!reader.End)
        {
            if (!TryReadVarint(ref reader, out tag))
            {
                return false;
            }

            if (tag == VersionTag && !haveVersion)
            {
                if (!TryReadVarint(ref reader, out var value))
                {
                    return false;
                }

                // int64 is a two's-complement varint: a negative version is ten bytes and reads back as itself.
                version = unchecked((long)value);
                haveVersion = true;
            }
            else if (tag == DataTag && !haveData)
            {
                if (!TryReadVarint(ref reader, out var size) || size > (ulong)reader.Remaining)
                {
                    return false;
                }

                data = payload.Slice(reader.Position, (long)size);
                reader.Advance((long)size);
                haveData = true;
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A base-128 varint of at most 10 bytes (protobuf's encoding of integers).</summary>
    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                // The tenth byte may only carry the top bit of a 64-bit value.
                return shift < 63 || b <= 1;
            }
        }

        return false;
    }
}

using System.Buffers;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Wire;
using Dstar.Engine.Transport;
using Google.Protobuf;
using WireFormat = Dstar.Engine.Transport.WireFormat;
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
        if (TryReadPlainGradient(payload, out var plain))
        {
            return WorkerEnvelope.Of(Decode(plain.Version, plain.Data, plain.ComputeSeconds, plain.LocalSeconds));
        }

        var message = WorkerMessage.Parser.ParseFrom(payload);
        if (message.BodyCase != WorkerMessage.BodyOneofCase.Gradient)
        {
            return WorkerEnvelope.Of(message);
        }

        var gradient = message.Gradient;
        return WorkerEnvelope.Of(Decode(gradient.Version, new ReadOnlySequence<byte>(gradient.Data.Memory), gradient.ComputeSeconds, gradient.LocalSeconds));
    }

    /// <summary>The values of <paramref name="data"/>, decoded to float32, in a pooled buffer when there are exactly d of them.</summary>
    private ReceivedGradient Decode(long version, ReadOnlySequence<byte> data, double computeSeconds, double localSeconds)
    {
        if (ReceivedGradient.NotWholeValues(version, data.Length, _wire, _buffers.Dimension, computeSeconds, localSeconds) is { } refused)
        {
            return refused;
        }

        // The length is bounded by gRPC's receive limit (d values plus framing), so a wrong one costs at most one small array.
        var count = (int)(data.Length / _wire.BytesPerValue());
        var (values, pooled) = _buffers.RentFor(count);
        GradientCodec.Decode(_wire, data, values.AsSpan(0, count));
        return new ReceivedGradient(version, values.AsMemory(0, count), pooled, null, computeSeconds, localSeconds);
    }

    /// <summary>
    /// True for exactly <c>WorkerMessage{gradient = Gradient{version?, data?, compute_seconds?, local_seconds?}}</c> with
    /// each field at most once and nothing else, in any field order; then its fields, the payload as its place in
    /// <paramref name="payload"/>.
    /// </summary>
    internal static bool TryReadPlainGradient(ReadOnlySequence<byte> payload, out PlainGradient gradient)
    {
        gradient = new PlainGradient(0, ReadOnlySequence<byte>.Empty, 0, 0);
        var reader = new SequenceReader<byte>(payload);
        if (!TryReadVarint(ref reader, out var tag) || tag != GradientTags.Gradient
            || !TryReadVarint(ref reader, out var length) || length != (ulong)reader.Remaining)
        {
            return false;
        }

        var seen = 0;
        while (!reader.End)
        {
            if (!TryReadVarint(ref reader, out tag))
            {
                return false;
            }

            var field = (int)Math.Min(tag >> 3, 31);
            if ((seen & (1 << field)) != 0)
            {
                return false;
            }

            seen |= 1 << field;
            switch (tag)
            {
                case GradientTags.Version when TryReadVarint(ref reader, out var value):
                    // int64 is a two's-complement varint: a negative version is ten bytes and reads back as itself.
                    gradient = gradient with { Version = unchecked((long)value) };
                    break;
                case GradientTags.Data when TryReadVarint(ref reader, out var size) && size <= (ulong)reader.Remaining:
                    gradient = gradient with { Data = payload.Slice(reader.Position, (long)size) };
                    reader.Advance((long)size);
                    break;
                case GradientTags.Compute when reader.TryReadLittleEndian(out long bits):
                    gradient = gradient with { ComputeSeconds = BitConverter.Int64BitsToDouble(bits) };
                    break;
                case GradientTags.Local when reader.TryReadLittleEndian(out long bits):
                    gradient = gradient with { LocalSeconds = BitConverter.Int64BitsToDouble(bits) };
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    /// <summary>The fields of a plainly encoded gradient message.</summary>
    internal readonly record struct PlainGradient(long Version, ReadOnlySequence<byte> Data, double ComputeSeconds, double LocalSeconds);

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

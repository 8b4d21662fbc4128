using System.Buffers;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Wire;
using Dstar.Engine.Transport;
using Google.Protobuf;
using WireFormat = Dstar.Engine.Transport.WireFormat;
using Grpc.Core;

namespace Dstar.Cluster.Worker;

/// <summary>
/// What a worker writes on its session: any <see cref="WorkerMessage"/> (a <see cref="WorkerMessage"/> converts
/// implicitly), or a gradient given as floats, which the marshaller of <see cref="SessionMethod"/> encodes straight into gRPC's outgoing
/// buffer as the <c>WorkerMessage{gradient}</c> of <c>dstar.proto</c> (the same bytes protobuf would write, without
/// first building a <c>bytes</c> payload and copying it).
/// </summary>
public sealed class WorkerRequest
{
    /// <summary>Values encoded per step into the outgoing buffer (64 Ki floats: 256 KiB).</summary>
    private const int EncodeStep = 64 * 1024;

    private readonly WorkerMessage? _message;
    private readonly long _version;
    private readonly ReadOnlyMemory<float> _gradient;
    private readonly WireFormat _wire;
    private readonly double _computeSeconds;
    private readonly double _localSeconds;

    private WorkerRequest(WorkerMessage? message, long version, ReadOnlyMemory<float> gradient, WireFormat wire, double computeSeconds = 0, double localSeconds = 0)
    {
        _message = message;
        _version = version;
        _gradient = gradient;
        _wire = wire;
        _computeSeconds = computeSeconds;
        _localSeconds = localSeconds;
    }

    /// <summary>The session's method with the worker-side marshaller (the route and messages of <c>dstar.proto</c>).</summary>
    public static Method<WorkerRequest, ServerMessage> SessionMethod { get; } = new(MethodType.DuplexStreaming, Protocol.ParameterService.Descriptor.FullName, "Session",
        Marshallers.Create<WorkerRequest>(Serialize, _ => throw new NotSupportedException("a worker only writes requests")),
        Marshallers.Create<ServerMessage>(
            (_, _) => throw new NotSupportedException("a worker only reads server messages"),
            context => ServerMessage.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    /// <summary>A plain message (Hello, Proof, or a gradient already encoded).</summary>
    public static implicit operator WorkerRequest(WorkerMessage message) => new(message ?? throw new ArgumentNullException(nameof(message)), 0, default, WireFormat.Float32);

    /// <summary>A plain message.</summary>
    public static WorkerRequest FromWorkerMessage(WorkerMessage message) => message;

    /// <summary>
    /// The gradient <paramref name="values"/> for <paramref name="version"/>, encoded in <paramref name="wire"/>, with
    /// the worker's account of its time (seconds computing it, and from receiving x_version to sending; 0: not
    /// reported). The memory must stay unchanged until the write that sends it has completed.
    /// </summary>
    public static WorkerRequest Gradient(long version, ReadOnlyMemory<float> values, WireFormat wire = WireFormat.Float32, double computeSeconds = 0,
        double localSeconds = 0) => new(null, version, values, wire, computeSeconds, localSeconds);

    private static void Serialize(WorkerRequest request, SerializationContext context)
    {
        if (request._message is { } message)
        {
            context.SetPayloadLength(message.CalculateSize());
            message.WriteTo(context.GetBufferWriter());
            context.Complete();
            return;
        }

        // WorkerMessage{gradient = Gradient{version = 1, data = 2, compute_seconds = 3, local_seconds = 4}}, fields in
        // number order, zeros omitted (proto3), as protobuf writes it.
        var size = request._wire.BytesPerValue();
        long dataLength = (long)request._gradient.Length * size;
        long inner = (request._version != 0 ? 1 + CodedOutputStream.ComputeInt64Size(request._version) : 0)
            + (dataLength != 0 ? 1 + CodedOutputStream.ComputeLengthSize((int)dataLength) + dataLength : 0)
            + (request._computeSeconds != 0 ? 9 : 0) + (request._localSeconds != 0 ? 9 : 0);
        long total = 1 + CodedOutputStream.ComputeLengthSize((int)inner) + inner;
        context.SetPayloadLength((int)total);
        var writer = context.GetBufferWriter();
        var header = writer.GetSpan(32);
        var at = 0;
        header[at++] = GradientTags.Gradient;
        at += WriteVarint(header[at..], (ulong)inner);
        if (request._version != 0)
        {
            header[at++] = GradientTags.Version;
            at += WriteVarint(header[at..], unchecked((ulong)request._version));
        }

        if (dataLength != 0)
        {
            header[at++] = GradientTags.Data;
            at += WriteVarint(header[at..], (ulong)dataLength);
        }

        writer.Advance(at);
        var values = request._gradient.Span;
        for (var start = 0; start < values.Length; start += EncodeStep)
        {
            var part = values.Slice(start, Math.Min(EncodeStep, values.Length - start));
            var bytes = part.Length * size;
            GradientCodec.Encode(request._wire, part, writer.GetSpan(bytes)[..bytes]);
            writer.Advance(bytes);
        }

        WriteDouble(writer, GradientTags.Compute, request._computeSeconds);
        WriteDouble(writer, GradientTags.Local, request._localSeconds);
        context.Complete();
    }

    private static void WriteDouble(IBufferWriter<byte> writer, byte tag, double value)
    {
        if (value != 0)
        {
            var span = writer.GetSpan(9);
            span[0] = tag;
            System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(span[1..], value);
            writer.Advance(9);
        }
    }

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            destination[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[at++] = (byte)value;
        return at;
    }
}

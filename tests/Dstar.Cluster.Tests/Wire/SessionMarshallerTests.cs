using System.Buffers;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Server;
using Dstar.Cluster.Wire;
using Dstar.Engine.Tests.Transport;
using Google.Protobuf;

namespace Dstar.Cluster.Tests.Wire;

/// <summary>
/// The server's own decoding of worker messages against protobuf's parser, the reference: every message, however
/// encoded and however the pipe splits it, must decode to what protobuf reads from the same bytes.
/// </summary>
public class SessionMarshallerTests
{
    private const int Dimension = 37;

    [Fact]
    public void Random_gradients_split_anywhere_decode_to_what_protobuf_reads()
    {
        var random = new Random(11);
        var buffers = new GradientBufferPool(Dimension, 2);
        var marshaller = new SessionMarshaller(buffers);
        for (var trial = 0; trial < 400; trial++)
        {
            // Lengths around d (right, short, long, empty), versions of every size and sign, values of every kind.
            var count = random.Next(4) switch { 0 => Dimension, 1 => random.Next(Dimension), 2 => Dimension + random.Next(1, 5), _ => 0 };
            var values = Enumerable.Range(0, count).Select(_ => RandomFloat(random)).ToArray();
            long version = random.Next(5) switch { 0 => 0, 1 => random.Next(), 2 => -random.NextInt64(1, long.MaxValue), 3 => long.MaxValue, _ => random.Next(100) };
            double compute = random.Next(3) == 0 ? 0 : random.NextDouble(), local = random.Next(3) == 0 ? 0 : random.NextDouble() * 10;
            var bytes = new WorkerMessage
            {
                Gradient = new Gradient { Version = version, Data = FloatWire.Encode(values), ComputeSeconds = compute, LocalSeconds = local },
            }.ToByteArray();
            var payload = Segments.Split(bytes, Enumerable.Range(0, random.Next(6)).Select(_ => random.Next(bytes.Length + 1)));

            var decoded = marshaller.Deserialize(payload);
            var reference = WorkerMessage.Parser.ParseFrom(bytes).Gradient;
            var gradient = decoded.Gradient!;
            Assert.Equal(reference.Version, gradient.Version);
            Assert.Equal((reference.ComputeSeconds, reference.LocalSeconds), (gradient.ComputeSeconds, gradient.LocalSeconds));
            Assert.Null(gradient.Malformed);
            Assert.Equal(Bits(FloatWireRead(reference.Data)), Bits(gradient.Values.ToArray()));
            Assert.Equal(count == Dimension, gradient.Pooled is not null);
            if (gradient.Pooled is { } pooled)
            {
                buffers.Return(pooled);
            }
        }
    }

    [Fact]
    public void Bytes_that_are_not_whole_floats_are_malformed_with_the_expected_length()
    {
        var marshaller = new SessionMarshaller(new GradientBufferPool(Dimension, 2));
        var bytes = new WorkerMessage { Gradient = new Gradient { Version = 3, Data = ByteString.CopyFrom(1, 2, 3, 4, 5, 6, 7) } }.ToByteArray();
        var gradient = marshaller.Deserialize(new ReadOnlySequence<byte>(bytes)).Gradient!;
        Assert.Equal(3, gradient.Version);
        Assert.Equal($"7 bytes is not a whole number of float32 values (expected {Dimension * 4})", gradient.Malformed);
        Assert.True(gradient.Values.IsEmpty);
    }

    [Fact]
    public void Unusual_but_valid_encodings_decode_as_protobuf_decodes_them()
    {
        var marshaller = new SessionMarshaller(new GradientBufferPool(Dimension, 2));
        var a = FloatWire.Encode(Enumerable.Range(0, Dimension).Select(i => (float)i).ToArray());
        var b = FloatWire.Encode(Enumerable.Range(0, Dimension).Select(i => -(float)i).ToArray());
        var encodings = new List<byte[]>
        {
            // Fields in reverse order; data twice (the last wins); version twice; an unknown field; the gradient field
            // twice (protobuf merges the two messages); a Hello and then a gradient (the last oneof wins).
            Message(Field(2, a), Varint(1, 9)),
            Message(Varint(1, 9), Field(2, a), Field(2, b)),
            Message(Varint(1, 4), Varint(1, 9), Field(2, a)),
            Message(Varint(1, 9), Field(2, a), Varint(7, 1)),
            Message(Fixed64(4, 2.5), Field(2, a), Fixed64(3, 0.5), Fixed64(3, 0.25)),
            Message(Varint(1, 9)).Concat(Message(Field(2, b))).ToArray(),
            new WorkerMessage { Hello = new Hello { WorkerId = 2 } }.ToByteArray().Concat(Message(Varint(1, 5), Field(2, a))).ToArray(),
        };
        foreach (var bytes in encodings)
        {
            var reference = WorkerMessage.Parser.ParseFrom(bytes);
            var decoded = marshaller.Deserialize(new ReadOnlySequence<byte>(bytes));
            Assert.Equal(WorkerMessage.BodyOneofCase.Gradient, decoded.BodyCase);
            Assert.Equal(reference.Gradient.Version, decoded.Gradient!.Version);
            Assert.Equal((reference.Gradient.ComputeSeconds, reference.Gradient.LocalSeconds), (decoded.Gradient.ComputeSeconds, decoded.Gradient.LocalSeconds));
            Assert.Equal(Bits(FloatWireRead(reference.Gradient.Data)), Bits(decoded.Gradient.Values.ToArray()));
        }
    }

    [Fact]
    public void Other_messages_come_through_as_protobuf_parsed_them_and_garbage_fails_as_protobuf_fails()
    {
        var marshaller = new SessionMarshaller(new GradientBufferPool(Dimension, 2));
        var hello = new WorkerMessage { Hello = new Hello { WorkerId = 4, Contract = { ["seed"] = "1" } } };
        var decoded = marshaller.Deserialize(new ReadOnlySequence<byte>(hello.ToByteArray()));
        Assert.Null(decoded.Gradient);
        Assert.Equal(hello, decoded.Message);
        Assert.Equal(WorkerMessage.BodyOneofCase.None, marshaller.Deserialize(ReadOnlySequence<byte>.Empty).BodyCase);

        // A truncated gradient and a varint that never ends are not messages.
        var truncated = new WorkerMessage { Gradient = new Gradient { Version = 1, Data = FloatWire.Encode(new float[Dimension]) } }.ToByteArray()[..^3];
        Assert.Throws<InvalidProtocolBufferException>(() => marshaller.Deserialize(new ReadOnlySequence<byte>(truncated)));
        Assert.Throws<InvalidProtocolBufferException>(() => marshaller.Deserialize(new ReadOnlySequence<byte>([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])));
    }

    private static byte[] Message(params byte[][] gradientFields)
    {
        var inner = gradientFields.SelectMany(f => f).ToArray();
        return [.. Tag(3, 2), .. VarintBytes((ulong)inner.Length), .. inner];
    }

    private static byte[] Field(int number, ByteString data) => [.. Tag(number, 2), .. VarintBytes((ulong)data.Length), .. data.ToByteArray()];

    private static byte[] Fixed64(int number, double value) => [.. Tag(number, 1), .. BitConverter.GetBytes(value)];

    private static byte[] Varint(int number, ulong value) => [.. Tag(number, 0), .. VarintBytes(value)];

    private static byte[] Tag(int number, int wireType) => VarintBytes((ulong)((number << 3) | wireType));

    private static byte[] VarintBytes(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static float[] FloatWireRead(ByteString data)
    {
        var values = new float[data.Length / 4];
        FloatWire.Read(data.Span, values);
        return values;
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    private static float RandomFloat(Random random) => random.Next(8) switch
    {
        0 => float.NaN,
        1 => float.PositiveInfinity,
        2 => -0f,
        3 => float.Epsilon,
        _ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30))),
    };
}

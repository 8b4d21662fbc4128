using System.Buffers;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Wire;
using Dstar.Cluster.Worker;
using Dstar.Engine.Transport;
using Google.Protobuf;
using Grpc.Core;
using WireFormat = Dstar.Engine.Transport.WireFormat;

namespace Dstar.Cluster.Tests.Wire;

/// <summary>The worker's encoding of a gradient against protobuf's, byte for byte.</summary>
public class WorkerRequestTests
{
    [Theory]
    [InlineData(0, 0L, 0.0, 0.0)]
    [InlineData(1, 0L, 0.0, 1.5)]
    [InlineData(37, 5L, 0.001, 0.25)]
    [InlineData(100_000, -3L, 2.0, 0.0)]
    [InlineData(300_001, long.MaxValue, 1e-9, 1e9)]
    public void A_gradient_is_written_exactly_as_protobuf_writes_the_same_message(int count, long version, double compute, double local)
    {
        var random = new Random(count);
        var values = Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        if (count > 2)
        {
            values[1] = float.NaN;
            values[2] = float.NegativeInfinity;
        }

        var expected = new WorkerMessage
        {
            Gradient = new Gradient { Version = version, Data = FloatWire.Encode(values), ComputeSeconds = compute, LocalSeconds = local },
        }.ToByteArray();
        Assert.Equal(expected, Serialize(WorkerRequest.Gradient(version, values, computeSeconds: compute, localSeconds: local)));

        // In a 2-byte format the data field holds the encoded values.
        var half = new byte[count * 2];
        GradientCodec.Encode(WireFormat.Float16, values, half);
        var expectedHalf = new WorkerMessage { Gradient = new Gradient { Version = version, Data = ByteString.CopyFrom(half) } }.ToByteArray();
        Assert.Equal(expectedHalf, Serialize(WorkerRequest.Gradient(version, values, WireFormat.Float16)));
    }

    [Fact]
    public void Any_other_message_is_written_by_protobuf()
    {
        var hello = new WorkerMessage { Hello = new Hello { WorkerId = 3, Contract = { ["workers"] = "6" } } };
        Assert.Equal(hello.ToByteArray(), Serialize(hello));
    }

    private static byte[] Serialize(WorkerRequest request)
    {
        var context = new BufferContext();
        WorkerRequest.SessionMethod.RequestMarshaller.ContextualSerializer(request, context);
        Assert.True(context.Completed);
        Assert.Equal(context.PayloadLength, context.Writer.WrittenCount);
        return context.Writer.WrittenSpan.ToArray();
    }

    private sealed class BufferContext : SerializationContext
    {
        public ArrayBufferWriter<byte> Writer { get; } = new(16);

        public int? PayloadLength { get; private set; }

        public bool Completed { get; private set; }

        public override void SetPayloadLength(int payloadLength) => PayloadLength = payloadLength;

        public override IBufferWriter<byte> GetBufferWriter() => Writer;

        public override void Complete() => Completed = true;

        public override void Complete(byte[] payload) => throw new NotSupportedException();
    }
}

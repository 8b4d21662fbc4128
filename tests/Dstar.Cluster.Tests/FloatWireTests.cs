using Dstar.Cluster.Wire;

namespace Dstar.Cluster.Tests;

public class FloatWireTests
{
    [Fact]
    public void Encode_then_read_returns_the_same_values_including_specials()
    {
        float[] values = [1.5f, -0f, float.MaxValue, float.Epsilon, float.NaN, float.NegativeInfinity, 3.25e-20f];
        var bytes = FloatWire.Encode(values);
        Assert.Equal(values.Length * 4, bytes.Length);
        Assert.Equal(BitConverter.GetBytes(1.5f), bytes.Span[..4].ToArray());
        var back = new float[values.Length];
        FloatWire.Read(bytes.Span, back);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), back.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Read_refuses_bytes_that_are_not_whole_floats()
    {
        var e = Assert.Throws<ArgumentException>(() => FloatWire.Read(new byte[7], new float[1]));
        Assert.Contains("7 bytes", e.Message);
    }

    [Fact]
    public void View_reads_the_received_bytes_as_the_sent_floats_at_any_offset_and_pins()
    {
        float[] values = [1.5f, -0f, float.MaxValue, float.Epsilon, float.NaN, float.NegativeInfinity, 3.25e-20f];
        var encoded = FloatWire.Encode(values).ToByteArray();
        // A message parsed out of a larger buffer: the floats start at an odd offset.
        var larger = new byte[encoded.Length + 3];
        encoded.CopyTo(larger, 3);
        var received = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(larger.AsMemory(3, encoded.Length));
        var view = FloatWire.View(received);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), view.ToArray().Select(BitConverter.SingleToInt32Bits));
        using (var pinned = view.Slice(2).Pin())
        {
            unsafe
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(float.MaxValue), BitConverter.SingleToInt32Bits(*(float*)pinned.Pointer));
            }
        }

        Assert.Contains("7 bytes", Assert.Throws<ArgumentException>(() => FloatWire.View(Google.Protobuf.ByteString.CopyFrom(new byte[7]))).Message);
    }
}

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
}

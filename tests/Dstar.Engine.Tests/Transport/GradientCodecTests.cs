using System.Buffers;
using Dstar.Engine.Configuration;
using Dstar.Engine.Transport;
using Xunit;

namespace Dstar.Engine.Tests.Transport;

/// <summary>
/// The wire encodings against naive references: float16 against .NET's scalar <see cref="Half"/> conversion, bfloat16
/// against the definition (the top 16 bits, rounded to nearest even), on random values and every special value.
/// </summary>
public class GradientCodecTests
{
    [Theory]
    [InlineData(WireFormat.Float32)]
    [InlineData(WireFormat.BFloat16)]
    [InlineData(WireFormat.Float16)]
    public void Encoding_then_decoding_gives_the_reference_rounding_of_every_value(WireFormat format)
    {
        var values = RandomValues(new Random((int)format), 5000);
        var bytes = new byte[values.Length * format.BytesPerValue()];
        GradientCodec.Encode(format, values, bytes);
        var decoded = new float[values.Length];
        GradientCodec.Decode(format, bytes, decoded);
        for (var i = 0; i < values.Length; i++)
        {
            var expected = Reference(format, values[i]);
            Assert.True(Same(expected, decoded[i]), $"{format}: {values[i]:R} → {decoded[i]:R}, expected {expected:R}");
        }
    }

    [Theory]
    [InlineData(WireFormat.BFloat16)]
    [InlineData(WireFormat.Float16)]
    public void A_value_that_does_not_fit_becomes_infinite_never_clipped_and_FirstUnfit_finds_exactly_those(WireFormat format)
    {
        var threshold = format.OverflowThreshold();
        var below = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(threshold) - 1);
        float[] values = [1f, below, -below, threshold, -threshold, float.MaxValue, float.NaN, float.PositiveInfinity];
        var bytes = new byte[values.Length * 2];
        GradientCodec.Encode(format, values, bytes);
        var decoded = new float[values.Length];
        GradientCodec.Decode(format, bytes, decoded);
        Assert.True(float.IsFinite(decoded[1]) && float.IsFinite(decoded[2]), $"{below:R} fits {format}");
        Assert.Equal([float.PositiveInfinity, float.NegativeInfinity, float.PositiveInfinity], decoded[3..6]);
        Assert.True(float.IsNaN(decoded[6]));
        Assert.Equal(float.PositiveInfinity, decoded[7]);

        // On random vectors, the first value FirstUnfit reports is the first one that decodes non-finite.
        var random = new Random(3);
        for (var trial = 0; trial < 200; trial++)
        {
            var vector = RandomValues(random, 50);
            var encoded = new byte[vector.Length * 2];
            GradientCodec.Encode(format, vector, encoded);
            var back = new float[vector.Length];
            GradientCodec.Decode(format, encoded, back);
            var firstNonFinite = Array.FindIndex(back, v => !float.IsFinite(v));
            Assert.Equal(firstNonFinite < 0 ? null : firstNonFinite, format.FirstUnfit(vector)?.Index);
        }
    }

    [Theory]
    [InlineData(WireFormat.Float32)]
    [InlineData(WireFormat.BFloat16)]
    [InlineData(WireFormat.Float16)]
    public void Decoding_a_payload_split_anywhere_gives_the_same_values(WireFormat format)
    {
        var random = new Random(7);
        var values = RandomValues(random, 301);
        var bytes = new byte[values.Length * format.BytesPerValue()];
        GradientCodec.Encode(format, values, bytes);
        var whole = new float[values.Length];
        GradientCodec.Decode(format, bytes, whole);
        for (var trial = 0; trial < 100; trial++)
        {
            var split = Segments.Split(bytes, Enumerable.Range(0, random.Next(1, 12)).Select(_ => random.Next(bytes.Length)));
            var decoded = new float[values.Length];
            GradientCodec.Decode(format, split, decoded);
            Assert.Equal(whole.Select(BitConverter.SingleToInt32Bits), decoded.Select(BitConverter.SingleToInt32Bits));
        }

        Assert.Throws<ArgumentException>(() => GradientCodec.Decode(format, new ReadOnlySequence<byte>(bytes), new float[values.Length + 1]));
    }

    [Fact]
    public void The_config_accepts_exactly_the_format_names_and_Parse_reads_them()
    {
        foreach (var name in WireFormats.Names)
        {
            Assert.DoesNotContain(ConfigValidator.Validate(new ExperimentConfig { Wire = name }), e => e.Key == "wire");
            Assert.Equal(name, WireFormats.Parse(name).Name());
        }

        Assert.Contains(ConfigValidator.Validate(new ExperimentConfig { Wire = "int8" }), e => e.Key == "wire" && e.Problem.Contains("float32, bfloat16, float16"));
        Assert.Equal(WireFormat.BFloat16, WireFormats.Parse(" bfloat16"));
        Assert.Contains("valid: float32, bfloat16, float16", Assert.Throws<ArgumentException>(() => WireFormats.Parse("int8")).Message);
    }

    /// <summary>The naive per-value round trip: float16 by .NET's scalar <see cref="Half"/>, bfloat16 by its definition.</summary>
    internal static float Reference(WireFormat format, float value) => format switch
    {
        WireFormat.Float16 => (float)(Half)value,
        WireFormat.BFloat16 => BFloat16(value),
        _ => value,
    };

    // bfloat16 by its definition: keep the top 16 bits of the float32, rounding the dropped 16 to nearest, ties to even;
    // NaN stays NaN.
    private static float BFloat16(float value)
    {
        if (float.IsNaN(value))
        {
            return float.NaN;
        }

        var bits = BitConverter.SingleToUInt32Bits(value);
        var top = bits >> 16;
        var dropped = bits & 0xFFFF;
        if (dropped > 0x8000 || (dropped == 0x8000 && (top & 1) == 1))
        {
            top++;
        }

        return BitConverter.UInt32BitsToSingle(top << 16);
    }

    internal static bool Same(float a, float b) => (float.IsNaN(a) && float.IsNaN(b)) || BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    private static float[] RandomValues(Random random, int count) => Enumerable.Range(0, count).Select(_ => random.Next(12) switch
    {
        0 => float.NaN,
        1 => float.NegativeInfinity,
        2 => -0f,
        3 => float.Epsilon * random.Next(1, 1000),
        4 => BitConverter.Int32BitsToSingle(random.Next()),
        5 => (float)(random.NextDouble() * 70000),
        6 => -(float)(random.NextDouble() * 1e-6),
        _ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-40, 39))),
    }).ToArray();
}

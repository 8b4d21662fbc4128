using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Dstar.Engine.Transport;

/// <summary>
/// Gradient values to and from the bytes of a <see cref="WireFormat"/>, little-endian, no framing. Encoding rounds to
/// nearest even as IEEE 754 conversion does: a value too large for the format becomes ±∞ and a NaN stays a NaN, so the
/// server sees a non-finite value and refuses the gradient as malformed; nothing is ever clipped to fit.
/// </summary>
public static class GradientCodec
{
    /// <summary>Writes <paramref name="values"/> into <paramref name="destination"/>, exactly n · bytes-per-value bytes.</summary>
    /// <exception cref="ArgumentException">the destination has the wrong length.</exception>
    public static void Encode(WireFormat format, ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (destination.Length != values.Length * format.BytesPerValue())
        {
            throw new ArgumentException($"{values.Length} values in {format.Name()} need {values.Length * format.BytesPerValue()} bytes, got {destination.Length}", nameof(destination));
        }

        switch (format)
        {
            case WireFormat.Float32 when BitConverter.IsLittleEndian:
                MemoryMarshal.AsBytes(values).CopyTo(destination);
                break;
            case WireFormat.Float32:
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * i)..], values[i]);
                }

                break;
            case WireFormat.Float16:
                TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(destination));
                SwapIfBigEndian(destination);
                break;
            default:
                EncodeBFloat16(values, MemoryMarshal.Cast<byte, ushort>(destination));
                SwapIfBigEndian(destination);
                break;
        }
    }

    /// <summary>Decodes <paramref name="source"/> (a whole number of values) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">the lengths do not match.</exception>
    public static void Decode(WireFormat format, ReadOnlySpan<byte> source, Span<float> destination)
    {
        var size = format.BytesPerValue();
        if (source.Length != destination.Length * size)
        {
            throw new ArgumentException($"{source.Length} bytes of {format.Name()} are not {destination.Length} values", nameof(source));
        }

        switch (format)
        {
            case WireFormat.Float32 when BitConverter.IsLittleEndian:
                source.CopyTo(MemoryMarshal.AsBytes(destination));
                break;
            case WireFormat.Float32:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                }

                break;
            case WireFormat.Float16 when BitConverter.IsLittleEndian:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case WireFormat.Float16:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]));
                }

                break;
            default:
                DecodeBFloat16(source, destination);
                break;
        }
    }

    /// <summary>
    /// Decodes <paramref name="source"/>, however it is split into segments (a value may straddle two), into
    /// <paramref name="destination"/>.
    /// </summary>
    /// <exception cref="ArgumentException">the lengths do not match.</exception>
    public static void Decode(WireFormat format, ReadOnlySequence<byte> source, Span<float> destination)
    {
        var size = format.BytesPerValue();
        if (source.Length != (long)destination.Length * size)
        {
            throw new ArgumentException($"{source.Length} bytes of {format.Name()} are not {destination.Length} values", nameof(source));
        }

        if (source.IsSingleSegment)
        {
            Decode(format, source.FirstSpan, destination);
            return;
        }

        if (format == WireFormat.Float32 && BitConverter.IsLittleEndian)
        {
            source.CopyTo(MemoryMarshal.AsBytes(destination));
            return;
        }

        Span<byte> straddling = stackalloc byte[4];
        var pending = 0;
        var written = 0;
        foreach (var segment in source)
        {
            var span = segment.Span;
            if (pending > 0)
            {
                var take = Math.Min(size - pending, span.Length);
                span[..take].CopyTo(straddling[pending..]);
                pending += take;
                span = span[take..];
                if (pending < size)
                {
                    continue;
                }

                Decode(format, straddling[..size], destination.Slice(written, 1));
                written++;
                pending = 0;
            }

            var whole = span.Length / size;
            Decode(format, span[..(whole * size)], destination.Slice(written, whole));
            written += whole;
            var rest = span[(whole * size)..];
            rest.CopyTo(straddling);
            pending = rest.Length;
        }
    }

    /// <summary>bfloat16 with round-to-nearest-even; a NaN stays a (quiet) NaN of the same sign.</summary>
    private static void EncodeBFloat16(ReadOnlySpan<float> values, Span<ushort> destination)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var lanes = Vector<uint>.Count;
            var one = Vector<uint>.One;
            var bias = new Vector<uint>(0x7FFF);
            var magnitude = new Vector<uint>(0x7FFFFFFF);
            var infinity = new Vector<uint>(0x7F800000);
            var quiet = new Vector<uint>(0x0040);
            for (; i + (2 * lanes) <= bits.Length; i += 2 * lanes)
            {
                var low = Round(new Vector<uint>(bits[i..]));
                var high = Round(new Vector<uint>(bits[(i + lanes)..]));
                Vector.Narrow(low, high).CopyTo(destination[i..]);
            }

            Vector<uint> Round(Vector<uint> x)
            {
                var rounded = (x + bias + ((x >> 16) & one)) >> 16;
                var nan = Vector.GreaterThan(x & magnitude, infinity);
                return Vector.ConditionalSelect(nan, (x >> 16) | quiet, rounded);
            }
        }

        for (; i < bits.Length; i++)
        {
            var x = bits[i];
            destination[i] = (x & 0x7FFFFFFF) > 0x7F800000 ? (ushort)((x >> 16) | 0x0040) : (ushort)((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
        }
    }

    /// <summary>bfloat16 → float32 is exact: the two bytes become the top half of the float.</summary>
    private static void DecodeBFloat16(ReadOnlySpan<byte> source, Span<float> destination)
    {
        var output = MemoryMarshal.Cast<float, uint>(destination);
        var i = 0;
        if (BitConverter.IsLittleEndian && Vector.IsHardwareAccelerated)
        {
            var halves = MemoryMarshal.Cast<byte, ushort>(source);
            var lanes = Vector<ushort>.Count;
            for (; i + lanes <= halves.Length; i += lanes)
            {
                Vector.Widen(new Vector<ushort>(halves[i..]), out var low, out var high);
                (low << 16).CopyTo(output[i..]);
                (high << 16).CopyTo(output[(i + (lanes / 2))..]);
            }
        }

        for (; i < output.Length; i++)
        {
            output[i] = (uint)BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16;
        }
    }

    private static void SwapIfBigEndian(Span<byte> twoByteValues)
    {
        if (!BitConverter.IsLittleEndian)
        {
            var values = MemoryMarshal.Cast<byte, ushort>(twoByteValues);
            BinaryPrimitives.ReverseEndianness(values, values);
        }
    }
}

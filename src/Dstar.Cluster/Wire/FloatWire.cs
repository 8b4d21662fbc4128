using System.Buffers;
using System.Runtime.InteropServices;
using Dstar.Engine.Transport;
using Google.Protobuf;
using WireFormat = Dstar.Engine.Transport.WireFormat;

namespace Dstar.Cluster.Wire;

/// <summary>
/// Vectors on the wire as protobuf <c>bytes</c>: raw little-endian IEEE-754 float32, 4 bytes per value, no framing (the
/// protobuf field carries the length); the values are <see cref="GradientCodec"/>'s float32. On a little-endian host
/// encoding and decoding are one memory copy; a big-endian host swaps bytes.
/// </summary>
public static class FloatWire
{
    /// <summary>Bytes per value.</summary>
    public const int BytesPerValue = sizeof(float);

    /// <summary>Encodes <paramref name="values"/> into a new <see cref="ByteString"/> (one copy).</summary>
    public static ByteString Encode(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * BytesPerValue];
        Write(values, bytes);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    /// <summary>Writes <paramref name="values"/> as little-endian float32 into <paramref name="destination"/> (exactly 4·n bytes).</summary>
    /// <exception cref="ArgumentException">the destination is not 4·n bytes.</exception>
    public static void Write(ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (destination.Length != values.Length * BytesPerValue)
        {
            throw new ArgumentException($"{values.Length} floats need {values.Length * BytesPerValue} bytes, got {destination.Length}.", nameof(destination));
        }

        GradientCodec.Encode(WireFormat.Float32, values, destination);
    }

    /// <summary>
    /// Decodes little-endian float32 bytes into <paramref name="destination"/>, which must hold exactly
    /// <paramref name="source"/>.Length / 4 values.
    /// </summary>
    /// <exception cref="ArgumentException">the byte count is not a multiple of 4, or the destination has the wrong length.</exception>
    public static void Read(ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (source.Length % BytesPerValue != 0)
        {
            throw new ArgumentException($"{source.Length} bytes is not a whole number of float32 values.", nameof(source));
        }

        if (destination.Length != source.Length / BytesPerValue)
        {
            throw new ArgumentException($"{source.Length} bytes decode to {source.Length / BytesPerValue} floats, destination holds {destination.Length}.", nameof(destination));
        }

        GradientCodec.Decode(WireFormat.Float32, source, destination);
    }

    /// <summary>
    /// The float32 values of <paramref name="bytes"/> (a whole number of them) as memory: on a little-endian machine
    /// a view of the received bytes themselves, with no copy; elsewhere a decoded copy.
    /// </summary>
    /// <exception cref="ArgumentException">the byte count is not a multiple of 4.</exception>
    public static ReadOnlyMemory<float> View(ByteString bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length % BytesPerValue != 0)
        {
            throw new ArgumentException($"{bytes.Length} bytes is not a whole number of float32 values.", nameof(bytes));
        }

        if (BitConverter.IsLittleEndian && MemoryMarshal.TryGetArray(bytes.Memory, out var segment))
        {
            return new FloatView(segment).Memory;
        }

        var values = new float[bytes.Length / BytesPerValue];
        Read(bytes.Span, values);
        return values;
    }

    /// <summary>Little-endian bytes of a managed array read as floats in place (unaligned loads are fine on x86 and Arm64).</summary>
    private sealed class FloatView(ArraySegment<byte> bytes) : MemoryManager<float>
    {
        public override Span<float> GetSpan() => MemoryMarshal.Cast<byte, float>(bytes.AsSpan());

        public override unsafe MemoryHandle Pin(int elementIndex = 0)
        {
            var handle = GCHandle.Alloc(bytes.Array, GCHandleType.Pinned);
            byte* start = (byte*)handle.AddrOfPinnedObject() + bytes.Offset + elementIndex * BytesPerValue;
            return new MemoryHandle(start, handle, this);
        }

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}

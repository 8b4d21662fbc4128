using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Dstar.Cli.Npy;

/// <summary>
/// Writes little-endian, C-order NumPy <c>.npy</c> files (format 1.0) of float32 or float64. The file is written to a
/// temporary name and renamed into place, so a reader never sees half a file.
/// </summary>
public static class NpyWriter
{
    /// <summary>Writes <paramref name="values"/> as a float32 array of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">the shape's product differs from the number of values.</exception>
    /// <exception cref="IOException">the file cannot be written.</exception>
    public static void Write(string path, ReadOnlySpan<float> values, params int[] shape) =>
        WriteBytes(path, "<f4", MemoryMarshal.AsBytes(values), values.Length, shape);

    /// <summary>Writes <paramref name="values"/> as a float64 array of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">the shape's product differs from the number of values.</exception>
    /// <exception cref="IOException">the file cannot be written.</exception>
    public static void Write(string path, ReadOnlySpan<double> values, params int[] shape) =>
        WriteBytes(path, "<f8", MemoryMarshal.AsBytes(values), values.Length, shape);

    /// <summary>The complete header (magic, version, length, dict, padding) for a little-endian C-order array.</summary>
    public static byte[] Header(string descr, IReadOnlyList<int> shape)
    {
        var dictionary = string.Create(
            CultureInfo.InvariantCulture,
            $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {NpyHeader.FormatShape(shape.Select(s => (long)s).ToArray())}, }}");

        // The whole header, newline included, is padded with spaces to a multiple of 64 bytes so the data is aligned.
        const int prefix = 10;
        int padded = (prefix + dictionary.Length + 1 + 63) / 64 * 64;
        var text = dictionary.PadRight(padded - prefix - 1) + "\n";
        var bytes = new byte[padded];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY", bytes.AsSpan(1));
        bytes[6] = 1;
        bytes[7] = 0;
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 2), checked((ushort)text.Length));
        Encoding.ASCII.GetBytes(text, bytes.AsSpan(prefix));
        return bytes;
    }

    private static void WriteBytes(string path, string descr, ReadOnlySpan<byte> data, int count, int[] shape)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("writing .npy files needs a little-endian machine");
        }

        long product = shape.Aggregate(1L, (p, s) => p * s);
        if (shape.Any(s => s < 0) || product != count)
        {
            throw new ArgumentException($"shape ({string.Join(", ", shape)}) holds {product} values, got {count}", nameof(shape));
        }

        var full = Path.GetFullPath(path);
        var temporary = full + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.Write(Header(descr, shape));
                stream.Write(data);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}

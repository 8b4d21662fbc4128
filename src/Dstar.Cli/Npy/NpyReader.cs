using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Dstar.Cli.Npy;

/// <summary>
/// Reads NumPy <c>.npy</c> files of float32 or float64 (either byte order, C order) into <see cref="float"/> arrays.
/// Every failure is an <see cref="NpyFormatException"/> with a one-line message naming the file.
/// </summary>
/// <remarks>
/// float64 values are rounded to the nearest float32; a magnitude beyond float32's range (about 3.4e38) becomes ±∞,
/// which the rules then treat as a non-finite row.
/// </remarks>
public static class NpyReader
{
    /// <summary>Reads a 2-D array of shape (n, d) with n ≥ 1 and d ≥ 1, row-major.</summary>
    /// <returns>The n·d values, row i at [i·d, (i+1)·d), with n and d.</returns>
    /// <exception cref="NpyFormatException">the file cannot be read, is malformed, or is not 2-D and non-empty.</exception>
    public static (float[] Values, int Rows, int Columns) ReadMatrix(string path)
    {
        var (header, values) = Read(path);
        if (header.Shape.Count != 2)
        {
            throw new NpyFormatException($"{path}: expected a 2-D array of shape (n, d), got shape {header.ShapeText}");
        }

        if (header.Shape[0] == 0 || header.Shape[1] == 0)
        {
            throw new NpyFormatException($"{path}: expected at least one row and one column, got shape {header.ShapeText}");
        }

        return (values, (int)header.Shape[0], (int)header.Shape[1]);
    }

    /// <summary>Reads a 1-D array of shape (<paramref name="length"/>,).</summary>
    /// <exception cref="NpyFormatException">the file cannot be read, is malformed, or does not have shape (length,).</exception>
    public static float[] ReadVector(string path, int length)
    {
        var (header, values) = Read(path);
        if (header.Shape.Count != 1 || header.Shape[0] != length)
        {
            throw new NpyFormatException($"{path}: expected shape ({length},), got shape {header.ShapeText}");
        }

        return values;
    }

    /// <summary>Reads any float32/float64 C-order array: its header and its values as float32.</summary>
    /// <exception cref="NpyFormatException">
    /// the file is missing or unreadable, its header is malformed, its dtype or order is unsupported, it holds more than
    /// the largest .NET array, or its data is truncated or followed by extra bytes.
    /// </exception>
    public static (NpyHeader Header, float[] Values) Read(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var header = NpyHeader.Read(stream, path);
            long count = CheckedCount(header, path);
            long expectedBytes = count * header.ElementSize;
            long available = stream.Length - header.DataOffset;
            if (available < expectedBytes)
            {
                throw new NpyFormatException(
                    $"{path}: truncated data: shape {header.ShapeText} needs {expectedBytes} bytes, the file has {available}");
            }

            if (available > expectedBytes)
            {
                throw new NpyFormatException(
                    $"{path}: {available - expectedBytes} unexpected bytes after the data of shape {header.ShapeText}");
            }

            var values = GC.AllocateUninitializedArray<float>((int)count);
            if (header.ElementType == NpyElementType.Float32)
            {
                ReadFloat32(stream, values, header.BigEndian);
            }
            else
            {
                ReadFloat64(stream, values, header.BigEndian);
            }

            return (header, values);
        }
        catch (FileNotFoundException)
        {
            throw new NpyFormatException($"{path}: no such file");
        }
        catch (DirectoryNotFoundException)
        {
            throw new NpyFormatException($"{path}: no such file (the directory does not exist)");
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            // .NET opens a directory as it would a file it may not read.
            throw new NpyFormatException($"{path}: is a directory, not a .npy file");
        }
        catch (UnauthorizedAccessException)
        {
            throw new NpyFormatException($"{path}: permission denied");
        }
        catch (IOException e) when (e is not EndOfStreamException)
        {
            throw new NpyFormatException($"{path}: cannot read: {OneLine(e.Message)}");
        }
        catch (EndOfStreamException)
        {
            throw new NpyFormatException($"{path}: truncated data");
        }
    }

    private static long CheckedCount(NpyHeader header, string path)
    {
        long count = 1;
        foreach (var dimension in header.Shape)
        {
            if (dimension > Array.MaxLength || (dimension > 0 && count > Array.MaxLength / dimension))
            {
                throw new NpyFormatException($"{path}: shape {header.ShapeText} holds more values than one array can ({Array.MaxLength})");
            }

            count *= dimension;
        }

        return count;
    }

    private static void ReadFloat32(Stream stream, float[] values, bool bigEndian)
    {
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        if (bigEndian != !BitConverter.IsLittleEndian)
        {
            var bits = MemoryMarshal.Cast<float, int>(values.AsSpan());
            BinaryPrimitives.ReverseEndianness(bits, bits);
        }
    }

    private static void ReadFloat64(Stream stream, float[] values, bool bigEndian)
    {
        // Convert in chunks so a float64 file needs no second full-size buffer.
        var chunk = new double[8192];
        var bytes = MemoryMarshal.AsBytes(chunk.AsSpan());
        bool swap = bigEndian != !BitConverter.IsLittleEndian;
        for (int start = 0; start < values.Length; start += chunk.Length)
        {
            int length = Math.Min(chunk.Length, values.Length - start);
            stream.ReadExactly(bytes[..(length * sizeof(double))]);
            if (swap)
            {
                var bits = MemoryMarshal.Cast<double, long>(chunk.AsSpan(0, length));
                BinaryPrimitives.ReverseEndianness(bits, bits);
            }

            for (int i = 0; i < length; i++)
            {
                values[start + i] = (float)chunk[i];
            }
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}

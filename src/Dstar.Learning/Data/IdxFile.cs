using System.Buffers.Binary;
using System.IO.Compression;

namespace Dstar.Learning.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/): a big-endian
/// header (two zero bytes, a type byte, a dimension count, then each dimension as a 32-bit integer) followed by the
/// data. Only unsigned bytes (type 0x08) are accepted, which is what both data sets use. A file that starts with the
/// gzip magic (1F 8B) is decompressed first, so <c>.gz</c> and raw files both work whatever their names; it must be a
/// single gzip member whose trailer length matches (this is how a cut-off download is caught).
/// </summary>
public static class IdxFile
{
    private const int MaxDimensions = 4;

    /// <summary>The dimensions and the bytes of an IDX file.</summary>
    /// <exception cref="DataFileException">
    /// the file is missing or unreadable, the gzip stream is corrupt, the magic is wrong, the type is not unsigned
    /// byte, a dimension is not positive, or the data is shorter or longer than the dimensions say.
    /// </exception>
    public static (int[] Dimensions, byte[] Data) Read(string path)
    {
        byte[] bytes = ReadAllBytes(path);
        if (bytes.Length < 4)
        {
            throw new DataFileException(path, $"truncated: {bytes.Length} bytes, shorter than the 4-byte IDX magic");
        }

        if (bytes[0] != 0 || bytes[1] != 0)
        {
            throw new DataFileException(path, $"not an IDX file: magic starts {bytes[0]:X2} {bytes[1]:X2}, expected 00 00");
        }

        if (bytes[2] != 0x08)
        {
            throw new DataFileException(path, $"IDX element type 0x{bytes[2]:X2} is not supported (only unsigned byte, 0x08)");
        }

        int rank = bytes[3];
        if (rank is < 1 or > MaxDimensions)
        {
            throw new DataFileException(path, $"IDX dimension count {rank} is outside 1..{MaxDimensions}");
        }

        int header = 4 + 4 * rank;
        if (bytes.Length < header)
        {
            throw new DataFileException(path, $"truncated: {bytes.Length} bytes, the header of {rank} dimensions needs {header}");
        }

        var dimensions = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++)
        {
            int size = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (size <= 0)
            {
                throw new DataFileException(path, $"IDX dimension {i} is {size}, must be positive");
            }

            dimensions[i] = size;
            expected *= size;
            if (expected > Array.MaxLength)
            {
                throw new DataFileException(path, $"IDX dimensions [{string.Join(", ", dimensions[..(i + 1)])}] are too large");
            }
        }

        long actual = bytes.Length - header;
        if (actual != expected)
        {
            string what = actual < expected ? "truncated" : "has trailing data";
            throw new DataFileException(path, $"{what}: dimensions [{string.Join(", ", dimensions)}] need {expected} data bytes, the file has {actual}");
        }

        return (dimensions, bytes[header..]);
    }

    /// <summary>The file's bytes, gunzipped when it starts with the gzip magic.</summary>
    /// <exception cref="DataFileException">missing, unreadable or a corrupt gzip stream.</exception>
    internal static byte[] ReadAllBytes(string path)
    {
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFileException(path, "cannot be read: " + e.Message, e);
        }

        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B)
        {
            return raw;
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream(raw.Length * 4);
            gzip.CopyTo(output);
            // GZipStream stops quietly at the end of a cut-off file; the trailer's ISIZE (length mod 2³²) catches it.
            uint declared = raw.Length < 18 ? uint.MaxValue : BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(raw.Length - 4));
            if (declared != (uint)output.Length)
            {
                throw new DataFileException(path, $"truncated or corrupt gzip stream: it decompressed to {output.Length} bytes, its trailer says {declared}");
            }

            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DataFileException(path, "corrupt gzip stream: " + e.Message, e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFileException(path, "truncated gzip stream", e);
        }
    }
}

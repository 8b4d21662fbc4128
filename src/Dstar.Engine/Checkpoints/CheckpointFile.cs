using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dstar.Engine.Checkpoints;

/// <summary>
/// Reads and writes <see cref="Checkpoint"/>s. Format 2 (little-endian): the magic <c>DSTARCKP</c>, the format version,
/// round, seed, virtual seconds, d, two flags, x, velocity and the optional previous aggregate as float32, the number
/// of sections and each section as (kind, byte length, bytes), then a SHA-256 of everything before it. Format 1, which
/// dstar wrote before component state was saved, is the same without the sections; it is still read (with none).
/// </summary>
/// <remarks>
/// Writing is atomic: the bytes go to <c>NAME.tmp</c>, which is flushed to disk (fsync) and then renamed over
/// <c>NAME</c>; the checkpoint it replaces is first kept as <c>NAME.previous</c>. A crash at any moment therefore leaves
/// a complete checkpoint on disk. Loading verifies the checksum and never deletes or rewrites anything, so a corrupt
/// file costs nothing that was saved: the error names <c>NAME.previous</c> when it exists.
/// </remarks>
public static class CheckpointFile
{
    /// <summary>The checkpoint's name in a run directory.</summary>
    public const string FileName = "checkpoint.bin";

    private static ReadOnlySpan<byte> Magic => "DSTARCKP"u8;

    /// <summary>The format this dstar writes.</summary>
    public const int FormatVersion = 2;

    /// <summary>The oldest format this dstar reads.</summary>
    public const int OldestFormat = 1;
    private const int HeaderLength = 8 + 4 + 8 + 4 + 8 + 4 + 4 + 4;

    /// <summary>Writes <paramref name="checkpoint"/> to <paramref name="path"/> atomically (see remarks).</summary>
    /// <exception cref="ArgumentException">the vectors differ in length.</exception>
    public static void Save(string path, Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        int d = checkpoint.Parameters.Length;
        if (checkpoint.Velocity.Length != d || (checkpoint.PreviousAggregate is { } p && p.Length != d))
        {
            throw new ArgumentException($"checkpoint vectors differ in length: x {d}, velocity {checkpoint.Velocity.Length}, previous aggregate {checkpoint.PreviousAggregate?.Length}");
        }

        if (checkpoint.Sections is { } sections && sections.Select(s => s.Kind).Distinct().Count() != sections.Count)
        {
            throw new ArgumentException($"checkpoint sections repeat a kind: {string.Join(", ", sections.Select(s => s.Kind))}");
        }

        var bytes = Serialize(checkpoint);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            // Name the directory the user chose, not the temporary file the write would have failed on.
            throw new DirectoryNotFoundException($"cannot write checkpoint {path}: the directory '{directory}' does not exist");
        }

        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        if (File.Exists(path))
        {
            File.Copy(path, path + ".previous", overwrite: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads and verifies a checkpoint.</summary>
    /// <exception cref="CheckpointException">missing, truncated, not a checkpoint, checksum mismatch, or inconsistent sizes.</exception>
    public static Checkpoint Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"cannot read checkpoint {path}: {e.Message}");
        }

        var previous = path + ".previous";
        string Hint() => File.Exists(previous)
            ? $"; nothing was changed on disk, and the previous checkpoint {previous} is kept: copy it over {Path.GetFileName(path)} to resume from it"
            : "; nothing was changed on disk";

        if (bytes.Length < HeaderLength + SHA256.HashSizeInBytes || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new CheckpointException($"{path} is not a dstar checkpoint or is truncated ({bytes.Length} bytes){Hint()}");
        }

        var body = bytes.AsSpan(0, bytes.Length - SHA256.HashSizeInBytes);
        var stored = bytes.AsSpan(bytes.Length - SHA256.HashSizeInBytes);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(stored))
        {
            throw new CheckpointException($"{path} is corrupt: its SHA-256 checksum does not match its contents{Hint()}");
        }

        var reader = body[8..];
        int format = BinaryPrimitives.ReadInt32LittleEndian(reader);
        if (format < OldestFormat || format > FormatVersion)
        {
            throw new CheckpointException($"{path} has checkpoint format {format}; this dstar reads formats {OldestFormat}–{FormatVersion}{(format > FormatVersion ? " (it was written by a newer dstar)" : "")}{Hint()}");
        }

        long round = BinaryPrimitives.ReadInt64LittleEndian(reader[4..]);
        int seed = BinaryPrimitives.ReadInt32LittleEndian(reader[12..]);
        double virtualSeconds = BinaryPrimitives.ReadDoubleLittleEndian(reader[16..]);
        int d = BinaryPrimitives.ReadInt32LittleEndian(reader[24..]);
        int hasVelocity = BinaryPrimitives.ReadInt32LittleEndian(reader[28..]);
        int hasPrevious = BinaryPrimitives.ReadInt32LittleEndian(reader[32..]);
        long expected = HeaderLength + (long)d * 4 * (2 + (hasPrevious != 0 ? 1 : 0));
        bool sized = format == 1 ? expected == body.Length : expected + 4 <= body.Length;
        if (d <= 0 || round < 0 || !sized)
        {
            throw new CheckpointException($"{path} is inconsistent: d = {d}, round = {round}, {body.Length} bytes where {expected}{(format == 1 ? "" : " and its sections")} were expected{Hint()}");
        }

        int offset = HeaderLength;
        var x = ReadFloats(bytes, ref offset, d);
        var velocity = ReadFloats(bytes, ref offset, d);
        var previousAggregate = hasPrevious != 0 ? ReadFloats(bytes, ref offset, d) : null;
        List<CheckpointSection> sections = format == 1 ? [] : ReadSections(body, offset) ?? throw new CheckpointException($"{path} is inconsistent: its sections do not add up to its length, or one is unknown or repeated{Hint()}");
        return new Checkpoint(round, seed, virtualSeconds, x, velocity, hasVelocity != 0, previousAggregate, sections, format);
    }

    /// <summary>The sections from <paramref name="offset"/> to the end of <paramref name="body"/>, or null when they are malformed.</summary>
    private static List<CheckpointSection>? ReadSections(ReadOnlySpan<byte> body, int offset)
    {
        int count = BinaryPrimitives.ReadInt32LittleEndian(body[offset..]);
        offset += 4;
        var sections = new List<CheckpointSection>();
        if (count < 0)
        {
            return null;
        }

        for (int i = 0; i < count; i++)
        {
            if (body.Length - offset < 8)
            {
                return null;
            }

            var kind = (CheckpointSectionKind)BinaryPrimitives.ReadInt32LittleEndian(body[offset..]);
            int length = BinaryPrimitives.ReadInt32LittleEndian(body[(offset + 4)..]);
            offset += 8;
            if (length < 0 || length > body.Length - offset || !Enum.IsDefined(kind) || sections.Any(s => s.Kind == kind))
            {
                return null;
            }

            sections.Add(new CheckpointSection(kind, body.Slice(offset, length).ToArray()));
            offset += length;
        }

        return offset == body.Length ? sections : null;
    }

    private static float[] ReadFloats(byte[] bytes, ref int offset, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset + i * 4));
        }

        offset += count * 4;
        return values;
    }

    private static byte[] Serialize(Checkpoint c)
    {
        int d = c.Parameters.Length;
        int vectors = 2 + (c.PreviousAggregate is null ? 0 : 1);
        var sections = c.Sections ?? [];
        long sectionBytes = 4 + sections.Sum(s => 8L + s.Payload.Length);
        var bytes = new byte[HeaderLength + (long)d * 4 * vectors + sectionBytes + SHA256.HashSizeInBytes];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(span[12..], c.Round);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], c.Seed);
        BinaryPrimitives.WriteDoubleLittleEndian(span[24..], c.VirtualSeconds);
        BinaryPrimitives.WriteInt32LittleEndian(span[32..], d);
        BinaryPrimitives.WriteInt32LittleEndian(span[36..], c.HasVelocity ? 1 : 0);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], c.PreviousAggregate is null ? 0 : 1);
        int offset = HeaderLength;
        foreach (var vector in new[] { c.Parameters, c.Velocity, c.PreviousAggregate })
        {
            if (vector is null)
            {
                continue;
            }

            for (int i = 0; i < d; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(span[(offset + i * 4)..], vector[i]);
            }

            offset += d * 4;
        }

        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], sections.Count);
        offset += 4;
        foreach (var section in sections)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[offset..], (int)section.Kind);
            BinaryPrimitives.WriteInt32LittleEndian(span[(offset + 4)..], section.Payload.Length);
            section.Payload.CopyTo(span[(offset + 8)..]);
            offset += 8 + section.Payload.Length;
        }

        SHA256.HashData(span[..offset], span[offset..]);
        return bytes;
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using Dstar.Cluster.Wire;
using Dstar.Engine.Server;

namespace Dstar.Cluster.Server;

/// <summary>
/// The parameter server's state between rounds: version t, x_t, the optimizer velocity and the previous aggregate.
/// Nothing random needs saving: every round's randomness derives from (seed, round) (Engine's RandomStreams).
/// File <c>checkpoint-{t:D8}.bin</c>: magic "DSTARCK1", t (int64), d (int32), two flags, the vectors as
/// little-endian float32, then a SHA-256 of everything before it. Written atomically: temporary file, fsync, rename.
/// </summary>
public sealed record ClusterCheckpoint(long Version, float[] Parameters, float[] Velocity, bool HasVelocity, float[]? PreviousAggregate)
{
    private static readonly byte[] Magic = "DSTARCK1"u8.ToArray();

    /// <summary>Captures <paramref name="server"/>'s state.</summary>
    public static ClusterCheckpoint Capture(ParameterServer server) => new(
        server.Version,
        server.Parameters.ToArray(),
        server.Optimizer.Velocity.ToArray(),
        server.Optimizer.HasVelocity,
        server.PreviousAggregate?.ToArray());

    /// <summary>Puts this state into <paramref name="server"/>.</summary>
    /// <exception cref="ArgumentException">the dimensions differ from the server's model.</exception>
    public void RestoreInto(ParameterServer server) => server.Restore(Version, Parameters, Velocity, HasVelocity,
        PreviousAggregate ?? [], PreviousAggregate is not null);

    /// <summary>Writes the checkpoint into <paramref name="directory"/> atomically; returns its path.</summary>
    public string Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var d = Parameters.Length;
        var vectors = 2 + (PreviousAggregate is null ? 0 : 1);
        var body = new byte[Magic.Length + 8 + 4 + 2 + vectors * d * 4];
        Magic.CopyTo(body, 0);
        var at = Magic.Length;
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(at), Version);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(at + 8), d);
        body[at + 12] = HasVelocity ? (byte)1 : (byte)0;
        body[at + 13] = PreviousAggregate is null ? (byte)0 : (byte)1;
        at += 14;
        foreach (var vector in new[] { Parameters, Velocity, PreviousAggregate })
        {
            if (vector is null)
            {
                continue;
            }

            FloatWire.Write(vector, body.AsSpan(at, d * 4));
            at += d * 4;
        }

        var path = Path.Combine(directory, $"checkpoint-{Version:D8}.bin");
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            stream.Write(body);
            stream.Write(SHA256.HashData(body));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>The newest checkpoint file in <paramref name="directory"/>, or null when there is none.</summary>
    public static string? FindLatest(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetFiles(directory, "checkpoint-*.bin").Order(StringComparer.Ordinal).LastOrDefault()
            : null;

    /// <summary>Reads and verifies a checkpoint.</summary>
    /// <exception cref="InvalidDataException">wrong magic, truncated, or the checksum does not match; the message says which.</exception>
    public static ClusterCheckpoint Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        const int header = 8 + 8 + 4 + 2;
        if (bytes.Length < header + 32 || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"checkpoint '{path}' is not a dstar checkpoint (bad magic or too short).");
        }

        var body = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
        {
            throw new InvalidDataException($"checkpoint '{path}' is corrupt: its SHA-256 checksum does not match.");
        }

        var version = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
        var d = BinaryPrimitives.ReadInt32LittleEndian(body[16..]);
        var hasVelocity = body[20] == 1;
        var hasPrevious = body[21] == 1;
        var vectors = 2 + (hasPrevious ? 1 : 0);
        if (d < 1 || body.Length != header + (long)vectors * d * 4)
        {
            throw new InvalidDataException($"checkpoint '{path}' is truncated: d = {d}, {body.Length} bytes.");
        }

        float[] Next(ref int offset)
        {
            var v = new float[d];
            FloatWire.Read(bytes.AsSpan(offset, d * 4), v);
            offset += d * 4;
            return v;
        }

        var at = header;
        var parameters = Next(ref at);
        var velocity = Next(ref at);
        var previous = hasPrevious ? Next(ref at) : null;
        return new ClusterCheckpoint(version, parameters, velocity, hasVelocity, previous);
    }
}

using Dstar.Cluster.Server;

namespace Dstar.Cluster.Tests;

public class CheckpointTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dstar-ckpt-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public void Checkpoint_round_trips_bit_for_bit_and_the_newest_is_found()
    {
        var random = new Random(3);
        float[] Vector() => Enumerable.Range(0, 33).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var early = new ClusterCheckpoint(5, Vector(), Vector(), true, null);
        var late = new ClusterCheckpoint(12, Vector(), Vector(), true, Vector());
        early.Save(_directory);
        late.Save(_directory);
        var latest = ClusterCheckpoint.FindLatest(_directory)!;
        Assert.EndsWith("checkpoint-00000012.bin", latest);
        var loaded = ClusterCheckpoint.Load(latest);
        Assert.Equal(12, loaded.Version);
        Assert.Equal(late.Parameters, loaded.Parameters);
        Assert.Equal(late.Velocity, loaded.Velocity);
        Assert.Equal(late.PreviousAggregate, loaded.PreviousAggregate);
        Assert.Null(ClusterCheckpoint.Load(Path.Combine(_directory, "checkpoint-00000005.bin")).PreviousAggregate);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void A_flipped_byte_or_truncation_is_detected()
    {
        var path = new ClusterCheckpoint(1, [1, 2, 3], [0, 0, 0], false, null).Save(_directory);
        var bytes = File.ReadAllBytes(path);
        bytes[30] ^= 1;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => ClusterCheckpoint.Load(path)).Message);
        File.WriteAllBytes(path, bytes[..10]);
        Assert.Contains("not a dstar checkpoint", Assert.Throws<InvalidDataException>(() => ClusterCheckpoint.Load(path)).Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

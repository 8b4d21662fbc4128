namespace Dstar.Learning.Partitioning;

/// <summary>
/// One worker's minibatches over its shard, without replacement within an epoch: each epoch the shard is reshuffled
/// and cut into consecutive batches; the remainder shorter than b is skipped (each epoch is a fresh shuffle, so no
/// sample is skipped systematically). A shard smaller than b gives its whole shard each
/// time. Epoch e's order depends only on (seed, e), so the state is just (<see cref="Epoch"/>, <see cref="Position"/>)
/// and <see cref="Restore"/> rebuilds it exactly (for checkpoints). <see cref="Next"/> allocates nothing but one
/// random generator at each epoch boundary.
/// </summary>
public sealed class MinibatchSampler
{
    private readonly int[] _shard;
    private readonly int[] _order;
    private readonly int _seed;

    /// <summary>Creates a sampler positioned at the start of epoch 0.</summary>
    /// <exception cref="ArgumentException">an empty shard or a batch size below 1.</exception>
    public MinibatchSampler(IReadOnlyList<int> shard, int batchSize, int seed)
    {
        ArgumentNullException.ThrowIfNull(shard);
        if (shard.Count == 0)
        {
            throw new ArgumentException("a sampler needs a non-empty shard", nameof(shard));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _shard = shard.ToArray();
        _order = new int[_shard.Length];
        _seed = seed;
        BatchSize = Math.Min(batchSize, _shard.Length);
        Restore(0, 0);
    }

    /// <summary>The batch size actually used: min(b, shard size).</summary>
    public int BatchSize { get; }

    /// <summary>The current epoch (0-based).</summary>
    public int Epoch { get; private set; }

    /// <summary>The offset of the next batch within the epoch's order.</summary>
    public int Position { get; private set; }

    /// <summary>The next minibatch (valid until the next call).</summary>
    public ReadOnlySpan<int> Next()
    {
        if (Position + BatchSize > _order.Length)
        {
            Restore(Epoch + 1, 0);
        }

        var batch = _order.AsSpan(Position, BatchSize);
        Position += BatchSize;
        return batch;
    }

    /// <summary>Moves to (epoch, position), as saved from <see cref="Epoch"/> and <see cref="Position"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a negative epoch or a position outside the shard.</exception>
    public void Restore(int epoch, int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (position < 0 || position > _order.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(position), $"position {position} is outside 0..{_order.Length}");
        }

        _shard.CopyTo(_order, 0);
        new Random(EpochSeed(_seed, epoch)).Shuffle(_order);
        Epoch = epoch;
        Position = position;
    }

    /// <summary>A seed for epoch e that differs between epochs and seeds (SplitMix64 finaliser of the pair).</summary>
    private static int EpochSeed(int seed, int epoch)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)epoch) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }
}

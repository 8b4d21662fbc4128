namespace Dstar.Learning.Partitioning;

/// <summary>
/// <c>shards per-worker=2</c>: the pathological non-IID split of McMahan et al. ("Communication-Efficient Learning of
/// Deep Networks from Decentralized Data", AISTATS 2017): the pool is sorted by label, cut into N·s shards of equal
/// size (±1), and each worker gets s shards chosen at random, so it sees about s classes.
/// </summary>
public sealed class ShardPartitioner : IPartitioner
{
    /// <summary>Creates the partitioner.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shardsPerWorker"/> &lt; 1.</exception>
    public ShardPartitioner(int shardsPerWorker = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardsPerWorker, 1);
        ShardsPerWorker = shardsPerWorker;
    }

    /// <summary>s, the shards per worker.</summary>
    public int ShardsPerWorker { get; }

    /// <inheritdoc />
    public string Name => $"shards per-worker={ShardsPerWorker}";

    /// <inheritdoc />
    public int[][] Partition(IReadOnlyList<int> pool, ReadOnlySpan<int> labels, int workerCount, int seed)
    {
        Shuffling.CheckCommon(Name, pool, workerCount, workerCount * ShardsPerWorker);
        Shuffling.CheckLabels(Name, pool, labels);
        var random = new Random(seed);
        // Shuffling first makes which samples of a class land in which shard random too.
        var sorted = Shuffling.SortedByLabel(Shuffling.Shuffled(pool, random), labels);
        var shards = Shuffling.Chunks(sorted, workerCount * ShardsPerWorker);
        var order = Shuffling.Shuffled(Enumerable.Range(0, shards.Length), random);
        var result = new int[workerCount][];
        for (int w = 0; w < workerCount; w++)
        {
            result[w] = order.Skip(w * ShardsPerWorker).Take(ShardsPerWorker).SelectMany(s => shards[s]).ToArray();
        }

        return result;
    }
}

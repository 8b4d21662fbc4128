namespace Dstar.Learning.Partitioning;

/// <summary><c>iid</c>: the pool is shuffled and cut into N chunks whose sizes differ by at most one.</summary>
public sealed class IidPartitioner : IPartitioner
{
    /// <inheritdoc />
    public string Name => "iid";

    /// <inheritdoc />
    public int[][] Partition(IReadOnlyList<int> pool, ReadOnlySpan<int> labels, int workerCount, int seed)
    {
        Shuffling.CheckCommon(Name, pool, workerCount, workerCount);
        return Shuffling.Chunks(Shuffling.Shuffled(pool, new Random(seed)), workerCount);
    }
}

namespace Dstar.Learning.Partitioning;

/// <summary>
/// Splits a pool of training-sample indices among N workers. Every partitioner is seeded (same seed, same split),
/// and its result is disjoint and complete: each index of the pool goes to exactly one worker, and no worker is empty.
/// </summary>
public interface IPartitioner
{
    /// <summary>The spec text, for example "dirichlet alpha=0.5".</summary>
    string Name { get; }

    /// <summary>Partitions <paramref name="pool"/> (indices into the training set) among <paramref name="workerCount"/> workers.</summary>
    /// <param name="pool">The indices to split (the training set without the server's validation split).</param>
    /// <param name="labels">Every training sample's class label (indexed by sample index); empty for regression.</param>
    /// <param name="workerCount">N ≥ 1.</param>
    /// <param name="seed">Same seed, same split.</param>
    /// <returns>N arrays of sample indices, none empty, together holding each pool index exactly once.</returns>
    /// <exception cref="ArgumentException">N &lt; 1, fewer pool samples than the split needs, or labels needed but absent; the message says which.</exception>
    int[][] Partition(IReadOnlyList<int> pool, ReadOnlySpan<int> labels, int workerCount, int seed);
}

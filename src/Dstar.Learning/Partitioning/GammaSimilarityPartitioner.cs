namespace Dstar.Learning.Partitioning;

/// <summary>
/// <c>gamma-similarity gamma=0.5</c>: ByzFL's split (Allouah et al., "Fixing by Mixing", AISTATS 2023; ByzFL's
/// <c>gamma_similarity_niid</c>). The pool is shuffled; its first ⌊γ·n⌋ samples are dealt IID (N chunks of equal size
/// ±1); the rest are sorted by label and cut into one contiguous chunk per worker. Worker w gets its IID chunk plus its
/// sorted chunk. γ = 1 is IID; γ = 0 gives each worker a contiguous run of labels (one or two classes).
/// </summary>
public sealed class GammaSimilarityPartitioner : IPartitioner
{
    /// <summary>Creates the partitioner.</summary>
    /// <exception cref="ArgumentOutOfRangeException">γ outside [0, 1].</exception>
    public GammaSimilarityPartitioner(double gamma)
    {
        if (!(gamma >= 0 && gamma <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), $"gamma must be in [0, 1], got {gamma}");
        }

        Gamma = gamma;
    }

    /// <summary>γ, the IID fraction.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public string Name => $"gamma-similarity gamma={Gamma.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <inheritdoc />
    public int[][] Partition(IReadOnlyList<int> pool, ReadOnlySpan<int> labels, int workerCount, int seed)
    {
        Shuffling.CheckCommon(Name, pool, workerCount, workerCount);
        Shuffling.CheckLabels(Name, pool, labels);
        var shuffled = Shuffling.Shuffled(pool, new Random(seed));
        int similar = (int)Math.Floor(Gamma * shuffled.Length);
        var iid = Shuffling.Chunks(shuffled.AsSpan(0, similar), workerCount);
        var sorted = Shuffling.SortedByLabel(shuffled[similar..], labels);
        var skewed = Shuffling.Chunks(sorted, workerCount);
        var result = new int[workerCount][];
        for (int w = 0; w < workerCount; w++)
        {
            result[w] = [.. iid[w], .. skewed[w]];
            if (result[w].Length == 0)
            {
                throw new ArgumentException($"{Name}: worker {w} would get no samples from a pool of {pool.Count}", nameof(pool));
            }
        }

        return result;
    }
}

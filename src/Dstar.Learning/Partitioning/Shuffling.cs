namespace Dstar.Learning.Partitioning;

/// <summary>Seeded shuffles and even splits shared by the partitioners.</summary>
internal static class Shuffling
{
    /// <summary>A shuffled copy (Fisher–Yates with <paramref name="random"/>).</summary>
    public static int[] Shuffled(IEnumerable<int> items, Random random)
    {
        var array = items.ToArray();
        random.Shuffle(array);
        return array;
    }

    /// <summary>Cuts <paramref name="items"/> into <paramref name="parts"/> contiguous chunks whose sizes differ by at most one.</summary>
    public static int[][] Chunks(ReadOnlySpan<int> items, int parts)
    {
        var chunks = new int[parts][];
        int size = items.Length / parts, extra = items.Length % parts, start = 0;
        for (int w = 0; w < parts; w++)
        {
            int length = size + (w < extra ? 1 : 0);
            chunks[w] = items.Slice(start, length).ToArray();
            start += length;
        }

        return chunks;
    }

    /// <summary>The pool sorted by label; ties keep the order of <paramref name="pool"/>.</summary>
    public static int[] SortedByLabel(int[] pool, ReadOnlySpan<int> labels)
    {
        var keys = new int[pool.Length];
        for (int i = 0; i < pool.Length; i++)
        {
            keys[i] = labels[pool[i]];
        }

        var order = Enumerable.Range(0, pool.Length).ToArray();
        // A stable sort: by label, then by position.
        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));
        return order.Select(i => pool[i]).ToArray();
    }

    public static void CheckCommon(string name, IReadOnlyList<int> pool, int workerCount, int needed)
    {
        ArgumentNullException.ThrowIfNull(pool);
        if (workerCount < 1)
        {
            throw new ArgumentException($"{name}: the number of workers must be ≥ 1, got {workerCount}", nameof(workerCount));
        }

        if (pool.Count < needed)
        {
            throw new ArgumentException($"{name}: {pool.Count} training samples cannot be split among {workerCount} workers (need at least {needed})", nameof(pool));
        }
    }

    public static void CheckLabels(string name, IReadOnlyList<int> pool, ReadOnlySpan<int> labels)
    {
        if (labels.IsEmpty)
        {
            throw new ArgumentException($"{name} splits by class label, but the data set has no labels (regression); use iid", nameof(labels));
        }

        foreach (var index in pool)
        {
            if ((uint)index >= (uint)labels.Length)
            {
                throw new ArgumentException($"{name}: pool index {index} has no label (there are {labels.Length})", nameof(pool));
            }
        }
    }
}

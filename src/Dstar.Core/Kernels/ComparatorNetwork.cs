namespace Dstar.Core.Kernels;

/// <summary>
/// A comparator network over n inputs that places the values of chosen ranks (for example the middle one or two)
/// at their sorted positions. Built from Batcher's odd–even merge sort (K. E. Batcher, "Sorting networks and their
/// applications", AFIPS 1968) on the next power of two, with comparators that touch a padding input removed (padding
/// is +∞, so such a comparator never moves anything) and pruned backwards to those that can reach a wanted rank.
/// </summary>
/// <remarks>
/// A comparator (a, b) with a &lt; b leaves min at a and max at b. Networks are built once per (n, ranks) and cached;
/// the column kernels apply them to whole registers, so one network serves 16 coordinates at a time.
/// </remarks>
internal sealed class ComparatorNetwork
{
    private static readonly Dictionary<(int N, int Low, int High, bool Outside, bool Median), ComparatorNetwork> Cache = new();

    private ComparatorNetwork(int[] pairs) => Pairs = pairs;

    /// <summary>Comparators as flattened (a, b) pairs, in application order.</summary>
    public int[] Pairs { get; }

    /// <summary>Number of comparators.</summary>
    public int Count => Pairs.Length / 2;

    /// <summary>
    /// The cached network on <paramref name="n"/> inputs that puts ranks <paramref name="lowRank"/>..<paramref name="highRank"/>
    /// (0-based, inclusive) in sorted position; (0, n−1) is a full sort.
    /// </summary>
    public static ComparatorNetwork For(int n, int lowRank, int highRank)
    {
        if (n < 1 || lowRank < 0 || highRank >= n || lowRank > highRank)
        {
            throw new ArgumentOutOfRangeException(nameof(n), $"no network for ranks {lowRank}..{highRank} of {n} inputs");
        }

        return Cached((n, lowRank, highRank, false, false));
    }

    /// <summary>
    /// The cached network on <paramref name="n"/> inputs that puts every rank below <paramref name="lowRank"/> and above
    /// <paramref name="highRank"/> in sorted position (and the median rank(s) too when <paramref name="median"/>).
    /// A network only permutes its inputs, so wires lowRank..highRank then hold exactly the values of those ranks, in
    /// some order: enough for a sum over them (trimmed mean, the core of Meamed's window), with fewer comparators than
    /// placing each rank (at n = 64 and 3 ranks per end: 453 instead of 543 with the median, 418 without).
    /// </summary>
    public static ComparatorNetwork Outside(int n, int lowRank, int highRank, bool median)
    {
        if (n < 1 || lowRank < 0 || highRank >= n || lowRank > highRank + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(n), $"no network for the ranks outside {lowRank}..{highRank} of {n} inputs");
        }

        return Cached((n, lowRank, highRank, true, median));
    }

    private static ComparatorNetwork Cached((int N, int Low, int High, bool Outside, bool Median) key)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(key, out var network))
            {
                var needed = new bool[key.N];
                for (int r = 0; r < key.N; r++)
                {
                    needed[r] = key.Outside ? r < key.Low || r > key.High : r >= key.Low && r <= key.High;
                }

                if (key.Median)
                {
                    needed[(key.N - 1) / 2] = needed[key.N / 2] = true;
                }

                network = Build(key.N, needed);
                Cache.Add(key, network);
            }

            return network;
        }
    }

    /// <summary>The network that places the median rank(s): (n−1)/2 and n/2.</summary>
    public static ComparatorNetwork Median(int n) => For(n, (n - 1) / 2, n / 2);

    private static ComparatorNetwork Build(int n, bool[] needed)
    {
        int size = 1;
        while (size < n)
        {
            size <<= 1;
        }

        // Odd–even merge sort in its recursive form: the same comparators as the layered form, but each half is
        // finished before the merge, so the compiled code works on few values at a time (fewer register spills).
        var all = new List<(int A, int B)>();
        void Add(int a, int b)
        {
            if (b < n)
            {
                all.Add((a, b));
            }
        }

        void Merge(int low, int length, int stride)
        {
            int step = stride * 2;
            if (step < length)
            {
                Merge(low, length, step);
                Merge(low + stride, length, step);
                for (int i = low + stride; i + stride < low + length; i += step)
                {
                    Add(i, i + stride);
                }
            }
            else
            {
                Add(low, low + stride);
            }
        }

        void Sort(int low, int length)
        {
            if (length > 1)
            {
                int half = length / 2;
                Sort(low, half);
                Sort(low + half, half);
                Merge(low, length, 1);
            }
        }

        Sort(0, size);

        // Backwards pruning: a comparator matters only when one of its wires still leads to a wanted rank.
        var kept = new List<(int A, int B)>();
        for (int c = all.Count - 1; c >= 0; c--)
        {
            var (a, b) = all[c];
            if (needed[a] || needed[b])
            {
                needed[a] = needed[b] = true;
                kept.Add((a, b));
            }
        }

        kept.Reverse();
        // Pinned so the kernels can walk it by pointer without fixing it on every call.
        var pairs = GC.AllocateArray<int>(kept.Count * 2, pinned: true);
        for (int c = 0; c < kept.Count; c++)
        {
            pairs[2 * c] = kept[c].A;
            pairs[2 * c + 1] = kept[c].B;
        }

        return new ComparatorNetwork(pairs);
    }
}

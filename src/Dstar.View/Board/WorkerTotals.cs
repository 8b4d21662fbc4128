using Dstar.Engine.Collection;
using Dstar.Engine.Recording;

namespace Dstar.View.Board;

/// <summary>One worker's rounds, by what happened to its gradient.</summary>
/// <param name="Worker">The worker id.</param>
/// <param name="Byzantine">Whether the run says it is Byzantine (known in simulation).</param>
/// <param name="Kept">Rounds its gradient was accepted and kept by the rule.</param>
/// <param name="Filtered">Rounds its gradient was accepted and left out by the rule.</param>
/// <param name="Late">Rounds it was dropped as late (after the k-th gradient, after the deadline, or never).</param>
/// <param name="OtherDrops">Rounds it was dropped for another reason (duplicate, stale, malformed).</param>
public sealed record WorkerTotal(int Worker, bool Byzantine, long Kept, long Filtered, long Late, long OtherDrops);

/// <summary>Per-worker totals over a run's rounds (the page's table; the script computes the same live).</summary>
public static class WorkerTotals
{
    /// <summary>Totals for workers 0..N−1 (N from <paramref name="info"/>, or the largest id seen + 1) over <paramref name="records"/>.</summary>
    public static IReadOnlyList<WorkerTotal> Of(RunInfo? info, IReadOnlyList<RoundRecord> records)
    {
        int workers = info?.WorkerCount ?? 0;
        foreach (var r in records)
        {
            foreach (var w in r.Accepted)
            {
                workers = Math.Max(workers, w + 1);
            }
        }

        var kept = new long[workers];
        var filtered = new long[workers];
        var late = new long[workers];
        var other = new long[workers];
        foreach (var r in records)
        {
            foreach (var w in r.Kept)
            {
                Count(kept, w);
            }

            foreach (var w in r.Filtered)
            {
                Count(filtered, w);
            }

            foreach (var (w, reason) in r.Dropped)
            {
                Count(reason == DropReason.Late ? late : other, w);
            }
        }

        var byzantine = new HashSet<int>(info?.Byzantine ?? []);
        return Enumerable.Range(0, workers)
            .Select(w => new WorkerTotal(w, byzantine.Contains(w), kept[w], filtered[w], late[w], other[w]))
            .ToArray();
    }

    // Ids outside 0..N−1 (a malformed message's unknown id) have no row.
    private static void Count(long[] counts, int worker)
    {
        if ((uint)worker < (uint)counts.Length)
        {
            counts[worker]++;
        }
    }
}

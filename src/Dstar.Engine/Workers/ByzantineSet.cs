using Dstar.Engine.Configuration;

namespace Dstar.Engine.Workers;

/// <summary>
/// Which workers of a run are Byzantine: the last f ids, N − f … N − 1. The one definition the simulator, the cluster
/// worker and the recorder (filter precision and recall) share. Slot j is worker N − f + j: the row an attack crafts
/// for that worker.
/// </summary>
public sealed class ByzantineSet
{
    private readonly int[] _workers;

    /// <summary>The last <paramref name="byzantineCount"/> of <paramref name="workerCount"/> workers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N &lt; 1, or f outside 0..N.</exception>
    public ByzantineSet(int workerCount, int byzantineCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workerCount);
        if (byzantineCount < 0 || byzantineCount > workerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(byzantineCount), $"byzantine must be in 0..N = {workerCount}, got {byzantineCount}");
        }

        WorkerCount = workerCount;
        _workers = Enumerable.Range(workerCount - byzantineCount, byzantineCount).ToArray();
    }

    /// <summary>The set of <paramref name="config"/>: its <c>workers</c> and <c>byzantine</c> keys.</summary>
    public static ByzantineSet Of(ExperimentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new ByzantineSet(config.Workers, config.Byzantine);
    }

    /// <summary>N.</summary>
    public int WorkerCount { get; }

    /// <summary>f.</summary>
    public int Count => _workers.Length;

    /// <summary>N − f: the first Byzantine id (N when there are none).</summary>
    public int FirstWorker => WorkerCount - _workers.Length;

    /// <summary>The Byzantine ids, ascending; slot j is <c>Workers[j]</c>.</summary>
    public IReadOnlyList<int> Workers => _workers;

    /// <summary>Whether <paramref name="worker"/> is Byzantine (false for ids outside 0..N−1).</summary>
    public bool Contains(int worker) => worker >= FirstWorker && worker < WorkerCount;

    /// <summary>The slot (0..f−1) of Byzantine worker <paramref name="worker"/>: its row among the crafted ones.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the worker is not Byzantine.</exception>
    public int SlotOf(int worker) => Contains(worker)
        ? worker - FirstWorker
        : throw new ArgumentOutOfRangeException(nameof(worker), $"worker {worker} is not one of the Byzantine workers {FirstWorker}..{WorkerCount - 1}");
}

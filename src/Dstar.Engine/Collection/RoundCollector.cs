using Dstar.Core;
using Dstar.Core.Kernels;
using Dstar.Engine.Transport;

namespace Dstar.Engine.Collection;

/// <summary>
/// Gathers one round's gradients: the first k well-formed gradients for the current version from distinct workers.
/// Everything else is dropped and counted with its <see cref="DropReason"/>.
/// </summary>
/// <remarks>
/// <para>Order of checks for each arrival: unknown worker id → malformed; version older than the current one → stale;
/// newer → malformed; the worker already delivered → duplicate; the round is already complete (k accepted, or the
/// deadline passed with at least k_min accepted) → late; wrong length or a non-finite value → malformed; else accepted.
/// A worker whose message was malformed may still deliver a good one in the same round.</para>
/// <para>Deadline D (seconds after publish, optional): an arrival with time &gt; D closes the round at time D when at
/// least k_min gradients were accepted; until k_min are in, the collector keeps accepting past D, because the server
/// cannot step on fewer. With no deadline the round closes at the k-th accepted arrival.</para>
/// <para>Memory: the accepted gradients are copied into one preallocated <see cref="GradientBatch"/> of capacity k, so
/// a steady-state round allocates only the small drop list. An in-process producer can skip that copy: it reserves
/// the row(s) the next accepted gradient(s) will occupy (<see cref="ReserveNextRow"/>, <see cref="ReserveRows"/>),
/// writes the gradient there, and commits it by offering an <see cref="Arrival"/> whose gradient is that very row;
/// the collector then only checks it. A reserved row is the collector's until the offer: a dropped row is overwritten
/// by the next accepted gradient.</para>
/// </remarks>
public sealed class RoundCollector
{
    private readonly bool[] _delivered;
    private readonly int[] _workers;
    private readonly double[] _times;
    private readonly List<Drop> _drops = new();
    private readonly GradientBatch _reservedView;
    private readonly int? _minimumGiven;
    private int _accepted;
    private bool _deadlinePassed;
    private int _excluded;

    /// <summary>Creates a collector for N workers, gradients of dimension d, the first k, and an optional deadline.</summary>
    /// <param name="workerCount">N ≥ 1.</param>
    /// <param name="dimension">d ≥ 1, the gradient length.</param>
    /// <param name="k">1 ≤ k ≤ N: how many gradients close a round.</param>
    /// <param name="deadline">Seconds after publish, &gt; 0; null for none.</param>
    /// <param name="minimumCount">k_min, 1 ≤ k_min ≤ k: needed to close at the deadline; null means ⌈k/2⌉+1 capped at k.</param>
    /// <exception cref="ArgumentOutOfRangeException">a value is outside the ranges above.</exception>
    public RoundCollector(int workerCount, int dimension, int k, double? deadline = null, int? minimumCount = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (k < 1 || k > workerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(k), $"k must be in 1..N = {workerCount}, got {k}");
        }

        if (deadline is { } d && !(d > 0 && double.IsFinite(d)))
        {
            throw new ArgumentOutOfRangeException(nameof(deadline), $"deadline must be a positive number of seconds, got {d}");
        }

        var kMin = minimumCount ?? DefaultMinimumCount(k);
        if (kMin < 1 || kMin > k)
        {
            throw new ArgumentOutOfRangeException(nameof(minimumCount), $"k_min must be in 1..k = {k}, got {kMin}");
        }

        WorkerCount = workerCount;
        Dimension = dimension;
        Capacity = k;
        K = k;
        Deadline = deadline;
        _minimumGiven = minimumCount;
        MinimumCount = kMin;
        Batch = new GradientBatch(k, dimension);
        _reservedView = new GradientBatch(Batch.Buffer, k, dimension);
        _delivered = new bool[workerCount];
        _workers = new int[k];
        _times = new double[k];
        Begin(0);
    }

    /// <summary>
    /// Workers the rule excludes for now (dSTAR's reputation): their gradients are dropped as
    /// <see cref="DropReason.Excluded"/> and do not count towards k, so the round waits for another worker; at most
    /// <see cref="MaxExcluded"/> a round (beyond that the rule itself leaves their rows out). Null: none.
    /// </summary>
    public Func<int, bool>? Excludes { get; set; }

    /// <summary>Most workers dropped as excluded in one round (N − k keeps every round able to fill).</summary>
    public int MaxExcluded { get; set; }

    /// <summary>The default k_min = ⌈k/2⌉ + 1, capped at k.</summary>
    public static int DefaultMinimumCount(int k) => Math.Min(k, (k + 1) / 2 + 1);

    /// <summary>N.</summary>
    public int WorkerCount { get; }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>k: accepted gradients that close the current round (set per round by <see cref="Begin(long, int)"/>).</summary>
    public int K { get; private set; }

    /// <summary>The largest k a round can take: the k the collector was created with.</summary>
    public int Capacity { get; }

    /// <summary>D in seconds after publish, or null.</summary>
    public double? Deadline { get; }

    /// <summary>k_min: accepted gradients needed to close the current round at the deadline.</summary>
    public int MinimumCount { get; private set; }

    /// <summary>The version being collected.</summary>
    public long Version { get; private set; }

    /// <summary>The accepted gradients, row i from worker <see cref="AcceptedWorkers"/>[i], in arrival order.</summary>
    public GradientBatch Batch { get; }

    /// <summary>The workers whose gradients were accepted, in arrival order.</summary>
    public ReadOnlySpan<int> AcceptedWorkers => _workers.AsSpan(0, _accepted);

    /// <summary>The accepted gradients' arrival times (seconds after publish), in arrival order.</summary>
    public ReadOnlySpan<double> AcceptedTimes => _times.AsSpan(0, _accepted);

    /// <summary>How many gradients were accepted so far.</summary>
    public int AcceptedCount => _accepted;

    /// <summary>Every message dropped so far this round, in order (workers that never answered are added by <see cref="Close"/>).</summary>
    public IReadOnlyList<Drop> Drops => _drops;

    /// <summary>True once the round is closed: k accepted, or the deadline passed with at least k_min accepted.</summary>
    public bool IsComplete => _accepted == K || (_deadlinePassed && _accepted >= MinimumCount);

    /// <summary>
    /// The round's duration in seconds after publish: the time of the last accepted arrival, or the deadline when the
    /// round closed there.
    /// </summary>
    public double CloseTime { get; private set; }

    /// <summary>Starts collecting <paramref name="version"/> with the current k: forgets the previous round.</summary>
    public void Begin(long version) => Begin(version, K);

    /// <summary>
    /// Starts collecting <paramref name="version"/>, closing at <paramref name="k"/> gradients (<c>k: auto</c> picks it
    /// per round): forgets the previous round. k_min is the one given at creation, capped at k, or ⌈k/2⌉+1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is not in 1..<see cref="Capacity"/>.</exception>
    public void Begin(long version, int k)
    {
        if (k < 1 || k > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(k), $"k must be in 1..{Capacity} (the collector's capacity), got {k}");
        }

        K = k;
        MinimumCount = Math.Min(k, _minimumGiven ?? DefaultMinimumCount(k));
        Version = version;
        _accepted = 0;
        Batch.Count = K;
        Array.Clear(_delivered);
        _drops.Clear();
        _deadlinePassed = false;
        _excluded = 0;
        CloseTime = 0;
    }

    /// <summary>
    /// The row the next accepted gradient of <paramref name="version"/> will occupy, for a producer that computes a
    /// gradient in place and then offers it (see remarks); null when the collector is not collecting that version or
    /// the round is complete.
    /// </summary>
    public Memory<float>? ReserveNextRow(long version) =>
        version != Version || IsComplete ? default(Memory<float>?) : Batch.Buffer.AsMemory(_accepted * Dimension, Dimension);

    /// <summary>
    /// The first <paramref name="count"/> rows, for a producer whose next <paramref name="count"/> offers are its rows
    /// 0..count−1 in order (the simulator's fast Byzantine workers). An offer whose gradient is its own row is only
    /// checked; when an earlier one is dropped, the later rows are copied one row down, never over a row not yet
    /// offered. Null when the collector is not collecting <paramref name="version"/>, already accepted a gradient, or
    /// <paramref name="count"/> exceeds k. The view is reused: valid until the next call.
    /// </summary>
    public GradientBatch? ReserveRows(long version, int count)
    {
        if (version != Version || _accepted != 0 || count < 1 || count > K)
        {
            return null;
        }

        _reservedView.Count = count;
        return _reservedView;
    }

    /// <summary>Offers one arrival; returns its verdict: null when it was accepted, else the drop (which is also recorded).</summary>
    public Drop? Offer(in Arrival arrival)
    {
        var drop = Judge(arrival);
        if (drop is { } d)
        {
            _drops.Add(d);
            return d;
        }

        _workers[_accepted] = arrival.Worker;
        _times[_accepted] = arrival.Time;
        _delivered[arrival.Worker] = true;
        _accepted++;
        CloseTime = Math.Max(CloseTime, arrival.Time);
        return null;
    }

    /// <summary>
    /// Tells the collector the wall-clock deadline has passed (network transports, where no arrival may come to
    /// show it). Returns <see cref="IsComplete"/>. Ignored when there is no deadline.
    /// </summary>
    public bool MarkDeadlinePassed()
    {
        if (Deadline is { } d && !_deadlinePassed)
        {
            _deadlinePassed = true;
            if (_accepted >= MinimumCount)
            {
                CloseTime = Math.Max(CloseTime, d);
            }
        }

        return IsComplete;
    }

    /// <summary>
    /// Closes the round: sets <see cref="Batch"/>.Count to the accepted count and records every worker that delivered
    /// nothing and had no message dropped as <see cref="DropReason.Late"/>. When no deadline closed the round early and fewer than k arrived,
    /// the stream ended early (a simulated crash): with a deadline and at least k_min accepted the round closes at the
    /// deadline, otherwise it cannot close.
    /// </summary>
    /// <exception cref="InvalidOperationException">fewer than k gradients and the round cannot close at a deadline; the message says how many were usable and why the others were dropped.</exception>
    public void Close()
    {
        if (!IsComplete)
        {
            if (Deadline is not null && _accepted >= MinimumCount)
            {
                MarkDeadlinePassed();
            }
            else
            {
                var need = Deadline is null ? $"k = {K} (no deadline is set)" : $"k_min = {MinimumCount}";
                var dropped = _drops.Count == 0
                    ? "none dropped"
                    : string.Join(", ", _drops.GroupBy(d => d.Reason).Select(g => $"{g.Count()} {g.Key.Name()}")) + " dropped (first: worker " + _drops[0].Worker + ", " + _drops[0].Detail + ")";
                throw new InvalidOperationException(
                    $"round {Version}: no more gradients will arrive, and only {_accepted} of {WorkerCount} were usable ({dropped}); the round needs {need}");
            }
        }

        Batch.Count = _accepted;
        for (int w = 0; w < WorkerCount; w++)
        {
            if (!_delivered[w] && !HasDrop(w))
            {
                _drops.Add(new Drop(w, DropReason.Late, "no gradient before the round closed"));
            }
        }
    }

    private bool HasDrop(int worker)
    {
        foreach (var d in _drops)
        {
            if (d.Worker == worker)
            {
                return true;
            }
        }

        return false;
    }

    private Drop? Judge(in Arrival a)
    {
        if ((uint)a.Worker >= (uint)WorkerCount)
        {
            return new Drop(a.Worker, DropReason.Malformed, $"unknown worker id {a.Worker}, expected 0..{WorkerCount - 1}");
        }

        if (a.Version < Version)
        {
            return new Drop(a.Worker, DropReason.Stale, $"version {a.Version}, current {Version}");
        }

        if (a.Version > Version)
        {
            return new Drop(a.Worker, DropReason.Malformed, $"version {a.Version} is newer than the current {Version}");
        }

        if (_excluded < MaxExcluded && Excludes?.Invoke(a.Worker) == true)
        {
            _excluded++;
            return new Drop(a.Worker, DropReason.Excluded, "excluded by the rule's reputation for now");
        }

        if (_delivered[a.Worker])
        {
            return new Drop(a.Worker, DropReason.Duplicate, $"second gradient for version {a.Version}");
        }

        if (!IsComplete && Deadline is { } deadline && a.Time > deadline)
        {
            // Closes the round at D when k_min are in; otherwise the k_min-th arrival will close it.
            MarkDeadlinePassed();
        }

        if (IsComplete)
        {
            return new Drop(a.Worker, DropReason.Late, $"arrived at {a.Time:G6} s after the round closed");
        }

        if (a.Gradient.Length != Dimension)
        {
            return new Drop(a.Worker, DropReason.Malformed, $"length {a.Gradient.Length}, expected {Dimension}");
        }

        // Copy and check in one pass; a non-finite row is left in the scratch row and overwritten by the next one. A
        // gradient the simulator already wrote into that very row is only checked.
        var row = Batch.Row(_accepted);
        bool finite = a.Gradient.Span.Overlaps(row, out int offset) && offset == 0 && a.Gradient.Length == row.Length
            ? NonFinite.AllFinite(row)
            : NonFinite.CopyAndCheck(a.Gradient.Span, row);
        if (!finite)
        {
            return new Drop(a.Worker, DropReason.Malformed, "holds NaN or ±∞");
        }

        return null;
    }
}

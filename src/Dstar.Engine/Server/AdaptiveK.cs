using System.Globalization;

namespace Dstar.Engine.Server;

/// <summary>
/// <c>k: auto</c>: before each round, picks the k that maximises the expected progress per second, from what the server
/// observed in the last <see cref="Window"/> rounds: when each worker's gradient arrived (response times), which of
/// the gradients it read the rule kept, and how noisy the kept gradients were.
/// </summary>
/// <remarks>
/// <para><b>Time.</b> T̂(j), the expected time to the j-th arrival, is the empirical mean over recent rounds of the j-th
/// smallest response time (an order-statistics estimate that assumes nothing about the delay distribution). A round
/// knows the times of the gradients it accepted; the later ones become known when they arrive after the round closed
/// (<see cref="ObserveLate"/>: a network server times a late gradient on receipt; the simulator reveals a late worker's
/// drawn time once the virtual clock has passed it). A worker not heard from yet is later than every worker heard
/// from, so the known times are exactly the first order statistics, and for the j-th of a round not known yet the
/// estimate uses the time elapsed since that round's publish, a lower bound that keeps growing: a crashed worker soon
/// makes the k that would need it too slow to pick. On a cluster, whose workers drop superseded work, a time not
/// known when the round closed will never be, and the round's close time stands in for it (optimistic, so a larger
/// k is tried and then measured).</para>
/// <para><b>Measured k only.</b> Where late times do arrive (the simulator), k is never above the largest j whose j-th
/// arrival has been measured in some round of the window (<see cref="MeasuredCount"/>): beyond it T̂ would rest on
/// lower bounds alone, which make every unmeasured k look as fast as the time elapsed so far, and the argmax would
/// wait for workers it knows nothing about (under persistent 10× stragglers, 9 wasted seconds a round).</para>
/// <para><b>Progress.</b> The mean of m gradients whose per-worker noise is Σ has E‖ĝ‖² = ‖μ‖² + tr Σ / m. For an
/// L-smooth loss, a step of η = 1/L decreases it in expectation by (‖μ‖²/2L)·(1 − φ/m), with the gradient noise
/// scale φ = tr Σ / ‖μ‖² in units of one worker's minibatch (McCandlish et al., "An empirical model of large-batch
/// training", arXiv 1812.06162, define φ; dynamic backup workers, Xiong et al., arXiv 2004.14696, trade the same two
/// quantities). m is the number of gradients the rule <i>keeps</i> of the first k it reads: m̂(k) = Σ_{j ≤ k} q̂ⱼ, with
/// q̂ⱼ the fraction of the window's rounds in which the rule kept the j-th arrival (for a rank no round has read, the
/// nearest rank read). Fast Byzantine gradients that the filter drops arrive first and are never kept, so with f of them
/// m̂(k) ≈ k − f: reading k gradients buys k − f. The progress of a round with k gradients is taken as
/// max(0, 1 − φ/m̂(k)): a fixed step, as dstar's optimizer takes, gains nothing from a round whose noise outweighs its
/// signal. φ is estimated from the gradients the rule kept: S = Σ‖gᵢ − ḡ‖² / (m − 1) estimates tr Σ, and ‖ḡ‖² − S/m
/// estimates ‖μ‖²; over the window φ̂ = ΣS / Σ(‖ḡ‖² − S/m), capped at <see cref="MaximumNoiseScale"/> when the
/// denominator is not positive.</para>
/// <para><b>Choice.</b> k = argmax over floor ≤ k ≤ min(k_max, measured) of max(0, 1 − φ̂/m̂(k)) / T̂(k); ties go to
/// the smaller k. Small φ̂ (clean gradients) favours rounds per second, so few gradients under heavy tails; large φ̂
/// favours more gradients. With constant delays T̂ is flat and k_max wins. When no k makes progress (typically near
/// convergence), the k with the most kept gradients per second, argmax m̂(k) / T̂(k), is used.</para>
/// <para><b>Start.</b> Until φ̂ is known (no round yet kept two gradients), k = ⌈N/2⌉ (at least 2, within the floor and
/// k_max): the median worker, whose arrival time is finite as long as fewer than half the workers straggle, so the
/// first round never waits for a tail it has not seen; the workers after it are measured as they arrive.</para>
/// <para><b>Floor.</b> k never falls below <see cref="Floor"/>: the larger of k_min, the least n the rule (and its
/// pre-aggregators) accepts with f Byzantine rows, and, with f &gt; 0, 3f, so that even when every Byzantine worker
/// answers first their share f/k among the gradients used stays ≤ 1/3 (below the ½ breaking point of the median that
/// dSTAR's filter is centred on, with a margin for the honest noise around it).</para>
/// <para>Deterministic: the same observations give the same k. Its state (the window) is part of a checkpoint
/// (<see cref="Capture"/>, <see cref="Restore"/>), so a resumed run chooses as an uninterrupted one.</para>
/// </remarks>
public sealed class AdaptiveK
{
    /// <summary>Rounds of history the estimates use.</summary>
    public const int Window = 20;

    /// <summary>The cap on φ̂ (a denominator that is not positive means "noise dominates").</summary>
    public const double MaximumNoiseScale = 1e6;

    private readonly Queue<RoundObservation> _history = new();

    /// <summary>Creates the policy for N workers choosing k in floor..k_max.</summary>
    /// <exception cref="ArgumentOutOfRangeException">not 1 ≤ floor ≤ k_max ≤ N.</exception>
    public AdaptiveK(int workerCount, int floor, int maximum)
    {
        if (workerCount < 1 || floor < 1 || floor > maximum || maximum > workerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(floor), $"k: auto needs 1 ≤ floor ≤ k_max ≤ N, got floor {floor}, k_max {maximum}, N {workerCount}");
        }

        WorkerCount = workerCount;
        Floor = floor;
        Maximum = maximum;
    }

    /// <summary>N.</summary>
    public int WorkerCount { get; }

    /// <summary>The least k the policy picks (see remarks).</summary>
    public int Floor { get; }

    /// <summary>k_max.</summary>
    public int Maximum { get; }

    /// <summary>The k of the rounds before φ̂ is known: ⌈N/2⌉, at least 2, within floor..k_max.</summary>
    public int Start => Math.Clamp(Math.Max(2, (WorkerCount + 1) / 2), Floor, Maximum);

    /// <summary>The floor for <c>k: auto</c>: max(k_min, the rule's least n, 3f when f &gt; 0).</summary>
    /// <param name="minimum">k_min, or null.</param>
    /// <param name="byzantineCount">f.</param>
    /// <param name="accepts">Whether the rule and its pre-aggregators run on n gradients (null: no requirement).</param>
    /// <param name="workerCount">N (the search for the rule's least n stops there).</param>
    /// <returns>The floor and why; a floor above N means no k works.</returns>
    public static (int Floor, string Why) FloorFor(int? minimum, int byzantineCount, Func<int, bool>? accepts, int workerCount)
    {
        int floor = Math.Max(1, minimum ?? 1);
        string why = minimum is null ? "1" : $"k_min = {minimum}";
        if (accepts is not null)
        {
            int n = 1;
            while (n <= workerCount && !accepts(n))
            {
                n++;
            }

            if (n > floor)
            {
                (floor, why) = (n, $"the rule needs n ≥ {n}");
            }
        }

        if (byzantineCount > 0 && 3 * byzantineCount > floor)
        {
            (floor, why) = (3 * byzantineCount, $"3f = {3 * byzantineCount} keeps the fast-Byzantine share ≤ 1/3");
        }

        return (floor, why);
    }

    /// <summary>The estimate behind the latest choice.</summary>
    public KChoice? Last { get; private set; }

    /// <summary>
    /// T̂(j) at time <paramref name="now"/> (seconds on the server's clock): the mean over the window of each round's
    /// j-th response time, or of the time elapsed since its publish while that is not known; null before any round.
    /// </summary>
    public double? ArrivalTime(int j, double now)
    {
        if (j < 1 || j > WorkerCount || _history.Count == 0)
        {
            return null;
        }

        double sum = 0;
        foreach (var o in _history)
        {
            double known = o.Times.Count > 0 ? o.Times[^1] : 0;
            sum += o.Times.Count >= j ? o.Times[j - 1] : o.LateMayArrive ? Math.Max(now - o.PublishTime, known) : known;
        }

        return sum / _history.Count;
    }

    /// <summary>
    /// The largest j whose j-th arrival the window has measured: the most times any round knows, counting N for a round
    /// whose late workers never answer (their close-time stand-ins are all it will ever know); 0 before any round.
    /// </summary>
    public int MeasuredCount
    {
        get
        {
            int measured = 0;
            foreach (var o in _history)
            {
                measured = Math.Max(measured, o.LateMayArrive ? o.Times.Count : WorkerCount);
            }

            return measured;
        }
    }

    /// <summary>
    /// m̂(k): the expected number of the first k arrivals the rule keeps, Σ_{j ≤ k} q̂ⱼ (see remarks); k when no round
    /// recorded which ranks it kept.
    /// </summary>
    public double ExpectedKept(int k) => KeptByRank()[Math.Clamp(k, 0, WorkerCount)];

    /// <summary>Cumulative m̂: element k is m̂(k), for k = 0..N.</summary>
    private double[] KeptByRank()
    {
        var cumulative = new double[WorkerCount + 1];
        double previous = 1;
        for (int j = 1; j <= WorkerCount; j++)
        {
            int read = 0, kept = 0;
            foreach (var o in _history)
            {
                if (o.Kept is { } k && k.Length >= j)
                {
                    read++;
                    kept += k[j - 1] ? 1 : 0;
                }
            }

            double q = read > 0 ? (double)kept / read : previous;
            cumulative[j] = cumulative[j - 1] + q;
            previous = q;
        }

        return cumulative;
    }

    /// <summary>φ̂ over the window, or null before any round with at least two kept gradients.</summary>
    public double? NoiseScale
    {
        get
        {
            double variance = 0, signal = 0;
            int rounds = 0;
            foreach (var o in _history)
            {
                if (o.Variance is { } v && o.SquaredMean is { } s)
                {
                    variance += v;
                    signal += s;
                    rounds++;
                }
            }

            if (rounds == 0)
            {
                return null;
            }

            return signal <= 0 || variance / signal > MaximumNoiseScale ? MaximumNoiseScale : variance / signal;
        }
    }

    /// <summary>Picks k for the round published at <paramref name="now"/> (seconds on the server's clock).</summary>
    public KChoice Choose(double now)
    {
        var phi = NoiseScale;
        if (_history.Count == 0 || phi is null)
        {
            Last = new KChoice(Start, string.Create(CultureInfo.InvariantCulture,
                $"start: {(_history.Count == 0 ? "nothing observed yet" : "no round kept two gradients yet")}; the median worker, k = {Start}"), null, null);
            return Last;
        }

        // Only k whose k-th arrival has been measured (see remarks), never below the floor.
        int top = Math.Max(Floor, Math.Min(Maximum, MeasuredCount));
        var kept = KeptByRank();

        // Progress per second; when the noise leaves no k with progress, kept gradients per second instead: then
        // only averaging more of them helps, and the fastest way to get many is what counts.
        var (best, bestScore) = Best(k => kept[k] > 0 ? Math.Max(0, 1 - (phi.Value / kept[k])) : 0, top, now);
        bool throughput = bestScore <= 0;
        if (throughput)
        {
            (best, _) = Best(k => kept[k], top, now);
        }

        double bestTime = ArrivalTime(best, now)!.Value;
        string bound = best == Floor ? " (floor)" : best == top && top < Maximum ? $" (largest measured k)" : "";
        var reason = throughput
            ? string.Create(CultureInfo.InvariantCulture, $"argmax m(k)/T(k): phi={phi.Value:G3} leaves no k with progress; m({best})={kept[best]:G3} T({best})={bestTime:G3}s{bound}")
            : string.Create(CultureInfo.InvariantCulture, $"argmax (1-phi/m(k))/T(k): phi={phi.Value:G3} m({best})={kept[best]:G3} T({best})={bestTime:G3}s{bound}");
        Last = new KChoice(best, reason, bestTime, phi);
        return Last;
    }

    /// <summary>The k in floor..<paramref name="top"/> with the largest progress(k) / T̂(k) (the smaller k on ties), and that value.</summary>
    private (int K, double Score) Best(Func<int, double> progress, int top, double now)
    {
        int best = top;
        double bestScore = 0;
        for (int k = Floor; k <= top; k++)
        {
            double score = progress(k) / Math.Max(ArrivalTime(k, now)!.Value, 1e-12);
            if (score > bestScore)
            {
                (best, bestScore) = (k, score);
            }
        }

        return (best, bestScore);
    }

    /// <summary>
    /// Records round <paramref name="round"/>, published at <paramref name="publishTime"/> on the server's clock: the
    /// response times known when it closed (seconds after publish, any order), which of the gradients read the rule
    /// kept, and, when at least two gradients were kept, their noise statistics. The window keeps the last
    /// <see cref="Window"/> rounds.
    /// </summary>
    /// <param name="round">t.</param>
    /// <param name="publishTime">When x_t was published, on the clock <see cref="Choose"/> is given.</param>
    /// <param name="responseTimes">The known response times (the accepted gradients'), at most N.</param>
    /// <param name="variance">S = Σ‖gᵢ − ḡ‖² / (m − 1) over the m kept gradients, or null.</param>
    /// <param name="squaredMean">‖ḡ‖² − S/m, or null.</param>
    /// <param name="lateMayArrive">
    /// True when the workers not heard from still answer later (the simulator): their unknown time is bounded below by
    /// the time elapsed since publish. False when they give up at the next publish (<c>dstar work</c> drops superseded
    /// work): their time is bounded below only by the round's last known time, an optimistic estimate that lets the
    /// policy try a larger k and measure it.
    /// </param>
    /// <param name="kept">
    /// For each accepted gradient in arrival order, whether the rule kept it; null when that is not known (a
    /// pre-aggregator mixed the rows), which counts every gradient as kept. At most N.
    /// </param>
    /// <exception cref="ArgumentException">more than N times or flags, or a negative or NaN time.</exception>
    public void Observe(long round, double publishTime, ReadOnlySpan<double> responseTimes, double? variance, double? squaredMean, bool lateMayArrive = true, bool[]? kept = null)
    {
        if (responseTimes.Length > WorkerCount || kept?.Length > WorkerCount)
        {
            throw new ArgumentException($"{responseTimes.Length} response times and {kept?.Length ?? 0} kept flags for N = {WorkerCount} workers", nameof(responseTimes));
        }

        var times = new List<double>(WorkerCount);
        foreach (var time in responseTimes)
        {
            times.Add(Checked(time));
        }

        times.Sort();
        Add(new RoundObservation(round, publishTime, times, variance, squaredMean, lateMayArrive, kept?.ToArray()));
    }

    /// <summary>
    /// A response time for round <paramref name="round"/> learned after it closed (a late gradient). Ignored when that
    /// round is not in the window or already knows N times.
    /// </summary>
    /// <exception cref="ArgumentException">a negative or NaN time.</exception>
    public void ObserveLate(long round, double responseTime)
    {
        double time = Checked(responseTime);
        foreach (var o in _history)
        {
            if (o.Round == round && o.Times.Count < WorkerCount)
            {
                int at = o.Times.BinarySearch(time);
                o.Times.Insert(at < 0 ? ~at : at, time);
                return;
            }
        }
    }

    /// <summary>The window, oldest round first (copies): what a checkpoint stores.</summary>
    public IReadOnlyList<KObservation> Capture() =>
        _history.Select(o => new KObservation(o.Round, o.PublishTime, o.Times.ToArray(), o.Variance, o.SquaredMean, o.LateMayArrive, o.Kept?.ToArray())).ToArray();

    /// <summary>Replaces the window with <paramref name="window"/> (a <see cref="Capture"/>, oldest first).</summary>
    /// <exception cref="ArgumentException">more than <see cref="Window"/> rounds, rounds out of order, or a round with more than N times, unsorted, negative or NaN times, or more than N flags; nothing is changed.</exception>
    public void Restore(IReadOnlyList<KObservation> window)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (window.Count > Window)
        {
            throw new ArgumentException($"{window.Count} rounds for a window of {Window}", nameof(window));
        }

        var rounds = new List<RoundObservation>(window.Count);
        for (int i = 0; i < window.Count; i++)
        {
            var o = window[i];
            if (i > 0 && o.Round <= window[i - 1].Round)
            {
                throw new ArgumentException($"window rounds out of order: {window[i - 1].Round} then {o.Round}", nameof(window));
            }

            if (o.Times.Length > WorkerCount || o.Kept?.Length > WorkerCount || !double.IsFinite(o.PublishTime))
            {
                throw new ArgumentException($"window round {o.Round}: {o.Times.Length} times and {o.Kept?.Length ?? 0} kept flags for N = {WorkerCount}, publish time {o.PublishTime}", nameof(window));
            }

            for (int j = 0; j < o.Times.Length; j++)
            {
                if (!(o.Times[j] >= 0) || (j > 0 && o.Times[j] < o.Times[j - 1]))
                {
                    throw new ArgumentException($"window round {o.Round}: response times must be sorted and ≥ 0", nameof(window));
                }
            }

            rounds.Add(new RoundObservation(o.Round, o.PublishTime, o.Times.ToList(), o.Variance, o.SquaredMean, o.LateMayArrive, o.Kept?.ToArray()));
        }

        _history.Clear();
        foreach (var o in rounds)
        {
            _history.Enqueue(o);
        }

        Last = null;
    }

    private void Add(RoundObservation observation)
    {
        _history.Enqueue(observation);
        if (_history.Count > Window)
        {
            _history.Dequeue();
        }
    }

    private static double Checked(double time) =>
        time >= 0 ? time : throw new ArgumentException($"a response time must be ≥ 0 seconds, got {time}");

    private sealed record RoundObservation(long Round, double PublishTime, List<double> Times, double? Variance, double? SquaredMean, bool LateMayArrive, bool[]? Kept);
}

/// <summary>One round of the <c>k: auto</c> window, as a checkpoint stores it.</summary>
/// <param name="Round">t.</param>
/// <param name="PublishTime">When x_t was published, on the server's clock.</param>
/// <param name="Times">The response times known so far, ascending.</param>
/// <param name="Variance">S over the kept gradients, or null.</param>
/// <param name="SquaredMean">‖ḡ‖² − S/m, or null.</param>
/// <param name="LateMayArrive">Whether late workers still answer (see <see cref="AdaptiveK.Observe"/>).</param>
/// <param name="Kept">Per accepted gradient in arrival order, whether the rule kept it; null when not known.</param>
public sealed record KObservation(long Round, double PublishTime, double[] Times, double? Variance, double? SquaredMean, bool LateMayArrive, bool[]? Kept);

/// <summary>What a checkpoint keeps of a server's <c>k: auto</c> (<see cref="ParameterServer.CaptureAutoK"/>).</summary>
/// <param name="VirtualNow">The server's virtual clock (the sum of the round times), in seconds.</param>
/// <param name="Window">The policy's window, oldest round first.</param>
/// <param name="PendingLate">Simulation: late response times drawn but not yet revealed (the clock has not passed them), in the order held.</param>
/// <param name="PublishTimes">The publish time of each round still in the window.</param>
public sealed record AutoKState(
    double VirtualNow,
    IReadOnlyList<KObservation> Window,
    IReadOnlyList<(long Round, double Time)> PendingLate,
    IReadOnlyList<(long Round, double Time)> PublishTimes);

/// <summary>One round's k under <c>k: auto</c>, and why.</summary>
/// <param name="K">The k used.</param>
/// <param name="Reason">One line: the rule that picked it and the estimates it used.</param>
/// <param name="ArrivalTime">T̂(k) in seconds, when known.</param>
/// <param name="NoiseScale">φ̂, when known.</param>
public sealed record KChoice(int K, string Reason, double? ArrivalTime, double? NoiseScale);

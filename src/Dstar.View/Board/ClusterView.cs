namespace Dstar.View.Board;

/// <summary>
/// A cluster's connections on the board (<c>dstar serve --view</c>): each worker's connection state and when it was
/// last seen, and the connections and gradients the server refused, by reason. The server reports to it through its
/// monitoring hook; joins, leaves and refusals are offered to the browsers at once, while a received gradient only
/// stamps the worker's last-seen time (the page re-reads <c>/api/cluster</c> for those), so the gradient path stays a
/// few writes. Thread safe.
/// </summary>
public sealed class ClusterView
{
    /// <summary>Refusals kept in <see cref="ClusterSnapshot.Recent"/>.</summary>
    public const int RecentRefusals = 20;

    private readonly ViewBoard _board;
    private readonly object _gate = new();
    private readonly WorkerEntry[] _workers;
    private readonly long[] _lastSeen; // UTC ticks, written without the lock on the gradient path
    private readonly long[] _gradients;
    private readonly SortedDictionary<string, long> _joinRefusals = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long> _gradientRefusals = new(StringComparer.Ordinal);
    private readonly Queue<ClusterRefusal> _recent = new();

    internal ClusterView(ViewBoard board, int workers)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        _board = board;
        _workers = Enumerable.Range(0, workers).Select(_ => new WorkerEntry()).ToArray();
        _lastSeen = new long[workers];
        _gradients = new long[workers];
    }

    /// <summary>N: the run's workers, 0..N−1.</summary>
    public int WorkerCount => _workers.Length;

    /// <summary>Worker <paramref name="worker"/> proved its key and joined from <paramref name="peer"/> (a newer session replaces an older one).</summary>
    public void Joined(int worker, string peer)
    {
        if ((uint)worker >= (uint)_workers.Length)
        {
            return;
        }

        var now = DateTime.UtcNow;
        lock (_gate)
        {
            var entry = _workers[worker];
            entry.Connected = true;
            entry.Peer = peer;
            entry.Since = now;
            entry.Joins++;
        }

        Interlocked.Exchange(ref _lastSeen[worker], now.Ticks);
        Publish();
    }

    /// <summary>Worker <paramref name="worker"/>'s session ended (it left, its connection broke, or the run finished).</summary>
    public void Left(int worker)
    {
        if ((uint)worker >= (uint)_workers.Length)
        {
            return;
        }

        var now = DateTime.UtcNow;
        lock (_gate)
        {
            var entry = _workers[worker];
            entry.Connected = false;
            entry.Since = now;
        }

        Publish();
    }

    /// <summary>A gradient arrived from <paramref name="worker"/>: stamps its last-seen time (no update is sent).</summary>
    public void Received(int worker)
    {
        if ((uint)worker < (uint)_lastSeen.Length)
        {
            Volatile.Write(ref _lastSeen[worker], DateTime.UtcNow.Ticks);
            Interlocked.Increment(ref _gradients[worker]);
        }
    }

    /// <summary>A connection was refused before or during its join (<paramref name="reason"/>: bad-signature, unregistered, …), claiming <paramref name="worker"/> when it said.</summary>
    public void JoinRefused(string reason, int? worker, string peer) => Refused(ClusterRefusalKind.Join, reason, worker, peer, _joinRefusals);

    /// <summary>A gradient from <paramref name="worker"/> was refused (<paramref name="reason"/>: stale-version, wrong-size, non-finite, …).</summary>
    public void GradientRefused(string reason, int worker) => Refused(ClusterRefusalKind.Gradient, reason, worker, null, _gradientRefusals);

    /// <summary>Every worker's line, the refusal counts and the latest refusals.</summary>
    public ClusterSnapshot Snapshot()
    {
        var now = DateTime.UtcNow;
        lock (_gate)
        {
            var workers = new ClusterWorkerSnapshot[_workers.Length];
            for (int w = 0; w < workers.Length; w++)
            {
                var e = _workers[w];
                long seen = Volatile.Read(ref _lastSeen[w]);
                workers[w] = new ClusterWorkerSnapshot(
                    w,
                    e.Joins == 0 ? "never" : e.Connected ? "connected" : "disconnected",
                    e.Peer,
                    e.Since,
                    seen == 0 ? null : new DateTime(seen, DateTimeKind.Utc),
                    e.Joins,
                    Interlocked.Read(ref _gradients[w]));
            }

            return new ClusterSnapshot(now, workers, new SortedDictionary<string, long>(_joinRefusals, StringComparer.Ordinal),
                new SortedDictionary<string, long>(_gradientRefusals, StringComparer.Ordinal), _recent.Reverse().ToArray());
        }
    }

    private void Refused(ClusterRefusalKind kind, string reason, int? worker, string? peer, SortedDictionary<string, long> counts)
    {
        lock (_gate)
        {
            counts[reason] = counts.GetValueOrDefault(reason) + 1;
            _recent.Enqueue(new ClusterRefusal(DateTime.UtcNow, kind, reason, worker, peer));
            while (_recent.Count > RecentRefusals)
            {
                _recent.Dequeue();
            }
        }

        Publish();
    }

    private void Publish() => _board.Publish(new ViewUpdate(null, null) { Panel = ViewPanel.Cluster });

    private sealed class WorkerEntry
    {
        public bool Connected { get; set; }

        public string? Peer { get; set; }

        public DateTime? Since { get; set; }

        public long Joins { get; set; }
    }
}

/// <summary>Whether a refusal ended a connection (during its join) or dropped one gradient.</summary>
public enum ClusterRefusalKind
{
    /// <summary>A connection refused before or during its join.</summary>
    Join,

    /// <summary>One gradient refused (the session stays).</summary>
    Gradient,
}

/// <summary>One refusal.</summary>
/// <param name="Time">When (UTC).</param>
/// <param name="Kind">Join or gradient.</param>
/// <param name="Reason">Why, as the server names it.</param>
/// <param name="Worker">The worker id claimed or attributed, when known.</param>
/// <param name="Peer">The peer address of a refused connection, when known.</param>
public sealed record ClusterRefusal(DateTime Time, ClusterRefusalKind Kind, string Reason, int? Worker, string? Peer);

/// <summary>One worker's connection.</summary>
/// <param name="Worker">Its id.</param>
/// <param name="State">"connected", "disconnected" or "never" (has not joined).</param>
/// <param name="Peer">The address of its last session, or null.</param>
/// <param name="Since">When it last joined or left (UTC), or null.</param>
/// <param name="LastSeen">Its last join or gradient (UTC), or null.</param>
/// <param name="Joins">Sessions it opened (a reconnect counts again).</param>
/// <param name="Gradients">Gradients received from it.</param>
public sealed record ClusterWorkerSnapshot(int Worker, string State, string? Peer, DateTime? Since, DateTime? LastSeen, long Joins, long Gradients);

/// <summary>The cluster at one moment.</summary>
/// <param name="Now">The server's clock when taken (UTC): ages are relative to it.</param>
/// <param name="Workers">Every worker 0..N−1.</param>
/// <param name="JoinRefusals">Refused connections by reason.</param>
/// <param name="GradientRefusals">Refused gradients by reason.</param>
/// <param name="Recent">The latest refusals, newest first (at most <see cref="ClusterView.RecentRefusals"/>).</param>
public sealed record ClusterSnapshot(
    DateTime Now,
    IReadOnlyList<ClusterWorkerSnapshot> Workers,
    IReadOnlyDictionary<string, long> JoinRefusals,
    IReadOnlyDictionary<string, long> GradientRefusals,
    IReadOnlyList<ClusterRefusal> Recent);

using System.Globalization;
using System.Text;

namespace Dstar.Cluster.Observability;

/// <summary>
/// The parameter server's counters, exported in the Prometheus text exposition format (version 0.0.4) at
/// <c>/metrics</c>. Thread safe: sessions, the round loop and the HTTP handler touch it concurrently, under one lock
/// (updates are a few per gradient, far below contention).
/// </summary>
/// <remarks>
/// Names: <c>dstar_rounds_total</c>, <c>dstar_round_seconds</c> (histogram), <c>dstar_round_phase_seconds{phase}</c>
/// (histogram per phase of <see cref="Phases"/>), <c>dstar_model_version</c>,
/// <c>dstar_gradients_kept_total{worker}</c>, <c>dstar_gradients_dropped_total{worker,reason}</c> with reason one of
/// filtered, late, stale, duplicate, malformed; <c>dstar_connected_workers</c>,
/// <c>dstar_refused_connections_total{reason}</c>, <c>dstar_upload_connections_total</c>.
/// </remarks>
public sealed class ClusterMetrics
{
    /// <summary>Upper bounds (seconds) of the round-latency histogram buckets.</summary>
    public static readonly double[] RoundBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly object _gate = new();
    private readonly long[] _bucketCounts = new long[RoundBuckets.Length];
    private readonly SortedDictionary<int, long> _kept = new();
    private readonly SortedDictionary<(int Worker, string Reason), long> _dropped = new();
    private readonly SortedDictionary<string, long> _refused = new(StringComparer.Ordinal);
    private readonly long[,] _phaseBuckets = new long[Dstar.Engine.Server.RoundTiming.Columns.Count, RoundBuckets.Length];
    private readonly double[] _phaseSums = new double[Dstar.Engine.Server.RoundTiming.Columns.Count];
    private readonly long[] _phaseCounts = new long[Dstar.Engine.Server.RoundTiming.Columns.Count];
    private long _rounds;
    private double _roundSecondsSum;
    private long _version;
    private int _connected;
    private long _uploads;

    /// <summary>
    /// The phase label of each <see cref="Dstar.Engine.Server.RoundTiming"/> column in <c>dstar_round_phase_seconds</c>:
    /// the column name without its <c>_s</c>.
    /// </summary>
    public static IReadOnlyList<string> Phases { get; } = Dstar.Engine.Server.RoundTiming.Columns.Select(c => c[..^2]).ToArray();

    /// <summary>Records one finished round, its latency and, when known, where its time went.</summary>
    public void RecordRound(long version, double seconds, Dstar.Engine.Server.RoundTiming? timing = null)
    {
        lock (_gate)
        {
            _rounds++;
            _version = version;
            _roundSecondsSum += seconds;
            for (var i = 0; i < RoundBuckets.Length; i++)
            {
                if (seconds <= RoundBuckets[i])
                {
                    _bucketCounts[i]++;
                }
            }

            var values = timing?.Values() ?? [];
            for (var phase = 0; phase < values.Length; phase++)
            {
                if (values[phase] is not { } value || !double.IsFinite(value))
                {
                    continue;
                }

                _phaseCounts[phase]++;
                _phaseSums[phase] += value;
                for (var i = 0; i < RoundBuckets.Length; i++)
                {
                    if (value <= RoundBuckets[i])
                    {
                        _phaseBuckets[phase, i]++;
                    }
                }
            }
        }
    }

    /// <summary>Counts a gradient kept by the rule.</summary>
    public void RecordKept(int worker)
    {
        lock (_gate)
        {
            _kept[worker] = _kept.GetValueOrDefault(worker) + 1;
        }
    }

    /// <summary>Counts a gradient dropped for <paramref name="reason"/> (filtered, late, stale, duplicate, malformed).</summary>
    public void RecordDropped(int worker, string reason)
    {
        lock (_gate)
        {
            _dropped[(worker, reason)] = _dropped.GetValueOrDefault((worker, reason)) + 1;
        }
    }

    /// <summary>Counts a refused connection (unauthenticated, unregistered, bad-signature, …).</summary>
    public void RecordRefused(string reason)
    {
        lock (_gate)
        {
            _refused[reason] = _refused.GetValueOrDefault(reason) + 1;
        }
    }

    /// <summary>Counts an accepted upload connection (each worker session opens one; docs/cluster.md, "The upload channel").</summary>
    public void RecordUploadOpened()
    {
        lock (_gate)
        {
            _uploads++;
        }
    }

    /// <summary>Adds <paramref name="delta"/> (+1 on join, −1 on leave) to the connected-workers gauge.</summary>
    public void AddConnected(int delta)
    {
        lock (_gate)
        {
            _connected += delta;
        }
    }

    /// <summary>The exposition text.</summary>
    public string Render()
    {
        var inv = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        lock (_gate)
        {
            s.Append("# HELP dstar_rounds_total Rounds completed (aggregate computed and stepped).\n# TYPE dstar_rounds_total counter\n");
            s.Append(inv, $"dstar_rounds_total {_rounds}\n");
            s.Append("# HELP dstar_model_version The parameter version t the next round publishes.\n# TYPE dstar_model_version gauge\n");
            s.Append(inv, $"dstar_model_version {_version}\n");
            s.Append("# HELP dstar_round_seconds Wall-clock seconds from publish to step.\n# TYPE dstar_round_seconds histogram\n");
            for (var i = 0; i < RoundBuckets.Length; i++)
            {
                s.Append(inv, $"dstar_round_seconds_bucket{{le=\"{RoundBuckets[i]}\"}} {_bucketCounts[i]}\n");
            }

            s.Append(inv, $"dstar_round_seconds_bucket{{le=\"+Inf\"}} {_rounds}\n");
            s.Append(inv, $"dstar_round_seconds_sum {_roundSecondsSum}\n");
            s.Append(inv, $"dstar_round_seconds_count {_rounds}\n");
            s.Append("# HELP dstar_round_phase_seconds Wall-clock seconds of each phase of a round (wait for the k-th gradient, and the closing "
                + "gradient's compute, delay and wire as its worker reports them; validation gradient, aggregation, step, evaluation).\n"
                + "# TYPE dstar_round_phase_seconds histogram\n");
            for (var phase = 0; phase < Phases.Count; phase++)
            {
                for (var i = 0; i < RoundBuckets.Length; i++)
                {
                    s.Append(inv, $"dstar_round_phase_seconds_bucket{{phase=\"{Phases[phase]}\",le=\"{RoundBuckets[i]}\"}} {_phaseBuckets[phase, i]}\n");
                }

                s.Append(inv, $"dstar_round_phase_seconds_bucket{{phase=\"{Phases[phase]}\",le=\"+Inf\"}} {_phaseCounts[phase]}\n");
                s.Append(inv, $"dstar_round_phase_seconds_sum{{phase=\"{Phases[phase]}\"}} {_phaseSums[phase]}\n");
                s.Append(inv, $"dstar_round_phase_seconds_count{{phase=\"{Phases[phase]}\"}} {_phaseCounts[phase]}\n");
            }

            s.Append("# HELP dstar_gradients_kept_total Gradients the aggregation rule kept, by worker.\n# TYPE dstar_gradients_kept_total counter\n");
            foreach (var (worker, count) in _kept)
            {
                s.Append(inv, $"dstar_gradients_kept_total{{worker=\"{worker}\"}} {count}\n");
            }

            s.Append("# HELP dstar_gradients_dropped_total Gradients not used, by worker and reason.\n# TYPE dstar_gradients_dropped_total counter\n");
            foreach (var ((worker, reason), count) in _dropped)
            {
                s.Append(inv, $"dstar_gradients_dropped_total{{worker=\"{worker}\",reason=\"{reason}\"}} {count}\n");
            }

            s.Append("# HELP dstar_connected_workers Authenticated worker sessions open now.\n# TYPE dstar_connected_workers gauge\n");
            s.Append(inv, $"dstar_connected_workers {_connected}\n");
            s.Append("# HELP dstar_refused_connections_total Sessions refused before or during the join, by reason.\n# TYPE dstar_refused_connections_total counter\n");
            foreach (var (reason, count) in _refused)
            {
                s.Append(inv, $"dstar_refused_connections_total{{reason=\"{reason}\"}} {count}\n");
            }

            s.Append("# HELP dstar_upload_connections_total Upload connections accepted (a worker session's gradients as raw frames).\n"
                + "# TYPE dstar_upload_connections_total counter\n");
            s.Append(inv, $"dstar_upload_connections_total {_uploads}\n");
        }

        AppendProcess(s);
        return s.ToString();
    }

    /// <summary>
    /// The server process's own cost, under the names Prometheus's client libraries give them (process_*, and the .NET
    /// runtime's dotnet_*), so that a dashboard made for other services reads them as they are.
    /// </summary>
    private static void AppendProcess(StringBuilder s)
    {
        var inv = CultureInfo.InvariantCulture;
        s.Append("# HELP process_cpu_seconds_total User and system CPU seconds of the server process.\n# TYPE process_cpu_seconds_total counter\n");
        s.Append(inv, $"process_cpu_seconds_total {Environment.CpuUsage.TotalTime.TotalSeconds}\n");
        s.Append("# HELP process_resident_memory_bytes Resident memory of the server process in bytes.\n# TYPE process_resident_memory_bytes gauge\n");
        s.Append(inv, $"process_resident_memory_bytes {Environment.WorkingSet}\n");
        s.Append("# HELP dotnet_gc_collections_total Garbage collections of the managed heap, by generation.\n# TYPE dotnet_gc_collections_total counter\n");
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            s.Append(inv, $"dotnet_gc_collections_total{{generation=\"{generation}\"}} {GC.CollectionCount(generation)}\n");
        }

        s.Append("# HELP dotnet_gc_allocated_bytes_total Bytes allocated on the managed heap.\n# TYPE dotnet_gc_allocated_bytes_total counter\n");
        s.Append(inv, $"dotnet_gc_allocated_bytes_total {GC.GetTotalAllocatedBytes()}\n");
        s.Append("# HELP dotnet_gc_pause_seconds_total Seconds the managed threads were paused for garbage collection.\n# TYPE dotnet_gc_pause_seconds_total counter\n");
        s.Append(inv, $"dotnet_gc_pause_seconds_total {GC.GetTotalPauseDuration().TotalSeconds}\n");
    }
}

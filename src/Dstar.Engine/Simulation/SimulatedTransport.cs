using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Stragglers;
using Dstar.Engine.Randomness;
using Dstar.Engine.Transport;
using Dstar.Engine.Workers;
using Dstar.Learning;

namespace Dstar.Engine.Simulation;

/// <summary>
/// N in-process workers on a virtual clock. On publish of version t it first samples every worker's response time
/// for round t (one <see cref="IDelayModel"/> draw per worker from the round's delay stream; fast Byzantine workers
/// answer at 0), orders the workers by (time, id), and then, lazily as the server reads, computes only the gradients
/// that are actually read. A server that stops after k accepted gradients therefore pays wall-clock time only for
/// the gradients it uses.
/// </summary>
/// <remarks>
/// <para>Honest worker w's gradient for round t is the oracle's gradient at x_t on a minibatch of b samples drawn with
/// replacement from its shard with the (seed, t, minibatch, w) stream. Label-flip Byzantine workers do the same with
/// y' = C − 1 − y.</para>
/// <para>Crafting attacks run once per round, when the first Byzantine arrival is read. An omniscient attack sees the
/// honest gradients computed that round: those of the honest workers among the first k in arrival order (at least
/// one honest worker, the first to answer). Those gradients are computed then and reused when their workers arrive.
/// The attack's generator is the (seed, t, attack) stream. It reads the honest rows in place and must not change them.</para>
/// <para>A worker whose delay is +∞ (a crash) never arrives. Memory: one N × d buffer of gradients.</para>
/// <para>With <see cref="Threads"/> (<c>simulation.parallel</c> = P &gt; 1), the gradients the round will read in the
/// normal course (the oracle-computed workers among the first k arrivals; with a crafting attack, the honest workers
/// among the first k, which the attack sees) are computed at the first read, on P threads, each into the row it
/// would have had one at a time: the collector's reserved rows in arrival order, or the honest buffer's rows in
/// compute order. Anything read beyond them (a dropped gradient, an excluded worker) is computed lazily as before.
/// The metrics are therefore bit-identical for every P; only gradients that a round closing early (a deadline) never
/// reads may be computed in vain. Memory: P − 1 model replicas, plus P rows for worker momentum's catch-up.</para>
/// <para>With <see cref="Wire"/> (<c>wire: bfloat16 | float16</c>), every gradient is encoded and decoded through
/// <see cref="GradientCodec"/> as it is read, after worker momentum and after crafting, exactly as a cluster worker
/// encodes what it sends and the server decodes it: the rule sees the cluster server's values. A value the format
/// cannot hold decodes as ±∞ (a NaN stays a NaN) and the collector drops the gradient as malformed, as the cluster's
/// does; nothing is clipped. The attack still sees the honest gradients in float32, as a cluster attacker, who
/// computes them itself, does: those rows are decoded into the collector's next row (or a scratch row) rather than in
/// place. With <c>float32</c> nothing is done: no pass, the same bits as without the key.</para>
/// </remarks>
public sealed class SimulatedTransport : ITransport, IRoundDelays
{
    private readonly WorkerRound _round;
    private readonly ByzantineSetup? _byzantine;
    // Honest rows in compute order: the attack's view of the round. Allocated on first use, which with no crafting
    // attack is only when a gradient cannot go straight into the collector's batch (no collector on this round).
    private GradientBatch? _gradients;
    private readonly int _dimension;
    private readonly bool[] _computed;
    private readonly double[] _delays;
    private readonly int[] _order;
    private readonly float[] _parameters;
    private readonly Memory<float>[] _memory;
    private readonly GradientBatch? _crafted;
    private readonly Comparer<int> _byArrival;
    private byte[]? _wireBytes; // the encoded gradient of ThroughWire, reused
    private float[]? _wireRow; // a decoded honest row when the collector has no row to lend
    private int _nextRow;
    private int _arrivalCount;
    private int _cursor;
    private bool _crafted0;
    private bool _prefetched;
    private long _version = -1;
    private int[]? _batchWorkers;
    private Memory<float>[]? _batchRows;
    private GradientBatch? _catchUpRows;

    /// <summary>Creates the simulated workers.</summary>
    /// <param name="oracle">Computes every worker's gradient (shared; the transport sets its parameters).</param>
    /// <param name="shards">Per worker, the training-sample indices it owns (N entries, none empty).</param>
    /// <param name="batchSize">b ≥ 1, each worker's minibatch size.</param>
    /// <param name="delay">The response-time model.</param>
    /// <param name="k">The server's k (which honest gradients an omniscient attack sees).</param>
    /// <param name="seed">The run seed.</param>
    /// <param name="byzantine">The Byzantine workers, or null for none.</param>
    /// <param name="pipeline">The server's pipeline, given to attacks that search through it.</param>
    /// <exception cref="ArgumentException">an empty shard, bad k or batch size, or a Byzantine id out of range or repeated.</exception>
    public SimulatedTransport(
        IGradientOracle oracle,
        IReadOnlyList<int[]> shards,
        int batchSize,
        IDelayModel delay,
        int k,
        int seed,
        ByzantineSetup? byzantine = null,
        AggregationPipeline? pipeline = null)
    {
        _round = new WorkerRound(oracle, shards, batchSize, delay, k, seed, byzantine, pipeline);
        int n = shards.Count;
        if (k < 1 || k > n)
        {
            throw new ArgumentException($"k must be in 1..N = {n}, got {k}", nameof(k));
        }

        if (byzantine is not null && byzantine.Workers.Count == n)
        {
            throw new ArgumentException("every worker is Byzantine; at least one must be honest", nameof(byzantine));
        }

        _byzantine = byzantine;
        int d = oracle.ParameterCount;
        _dimension = d;
        _memory = new Memory<float>[n];
        _computed = new bool[n];
        _delays = new double[n];
        _order = new int[n];
        _parameters = new float[d];

        // One comparer for the life of the transport (not a closure per round): by time, then by worker id.
        _byArrival = Comparer<int>.Create((a, b) =>
        {
            int c = _delays[a].CompareTo(_delays[b]);
            return c != 0 ? c : a.CompareTo(b);
        });
        if (byzantine is { Attack: not null } && byzantine.Workers.Count > 0)
        {
            _crafted = new GradientBatch(byzantine.Workers.Count, d);
        }
    }

    /// <inheritdoc />
    public int WorkerCount => _round.WorkerCount;

    /// <inheritdoc />
    public bool UsesVirtualTime => true;

    /// <summary>k, as given.</summary>
    public int K => _round.K;

    /// <summary>The run seed.</summary>
    public int Seed => _round.Seed;

    /// <summary>The server's pipeline, passed to attacks.</summary>
    public AggregationPipeline? Pipeline => _round.Pipeline;

    /// <summary>
    /// Worker momentum (<c>worker_momentum</c>), or null. With it, every worker that answered a round folds that
    /// round's gradient into its momentum, as a cluster worker would, even when the server stopped reading before it
    /// (those gradients are computed when the next version is published).
    /// </summary>
    public Workers.WorkerMomentum? Momentum
    {
        get => _round.Momentum;
        set => _round.Momentum = value;
    }

    private float[]? _momentumScratch;

    /// <summary>
    /// The threads that compute a round's gradients (<c>simulation.parallel</c>), or null to compute them one at a time
    /// on the shared oracle. The results are the same either way (see remarks).
    /// </summary>
    public GradientThreads? Threads { get; set; }

    /// <summary>
    /// The workers' momenta as of the end of round <paramref name="completedRounds"/> − 1, for a checkpoint: the last
    /// round's answering workers the server did not read are folded in first (as the next publish would), and the
    /// updates of a round published but not completed (an interrupted one) are left out. Null without momentum.
    /// </summary>
    public float[]?[]? CaptureMomentum(long completedRounds)
    {
        if (Momentum is null)
        {
            return null;
        }

        if (_version < completedRounds)
        {
            CatchUpMomentum();
            return Momentum.Capture();
        }

        return Momentum.Capture(withoutCurrentRound: true);
    }

    /// <summary>
    /// How the workers' gradients travel to the server (<c>wire</c>): each is rounded through
    /// <see cref="GradientCodec"/> as it is read (see remarks). Default <see cref="WireFormat.Float32"/>: untouched.
    /// </summary>
    public WireFormat Wire { get; set; } = WireFormat.Float32;

    /// <summary>The context the server aggregates with (f, g₀), passed to adaptive attacks when set.</summary>
    public AggregationContext? AttackAggregationContext { get; set; }

    /// <summary>
    /// The server's collector, when the simulator wires one in: gradients are then computed into the rows the
    /// collector reserves for them (<see cref="Collection.RoundCollector.ReserveNextRow"/> and
    /// <see cref="Collection.RoundCollector.ReserveRows"/>), so it checks them without a copy. Null: every gradient goes
    /// to the transport's own buffer and is copied on arrival. Results are the same either way.
    /// </summary>
    public Collection.RoundCollector? Collector { get; set; }

    /// <summary>The response times sampled for the current round, per worker (+∞: never answers).</summary>
    public ReadOnlySpan<double> RoundDelays => _delays;

    /// <summary>Whether worker <paramref name="worker"/> is Byzantine.</summary>
    public bool IsByzantine(int worker) => _round.IsByzantine(worker);

    /// <summary>How many gradients (honest or label-flipped) the oracle computed this round.</summary>
    public int GradientsComputed { get; private set; }

    /// <summary>Wall-clock seconds spent inside the oracle since creation (for the overhead benchmark).</summary>
    public double OracleSeconds { get; private set; }

    /// <summary>Wall-clock seconds spent crafting Byzantine gradients since creation (the Byzantine workers' computation).</summary>
    public double AttackSeconds { get; private set; }

    /// <inheritdoc />
    public ValueTask PublishAsync(long version, ReadOnlyMemory<float> parameters, CancellationToken cancellationToken = default)
    {
        if (parameters.Length != _parameters.Length)
        {
            throw new ArgumentException($"parameters have {parameters.Length} values, the model {_parameters.Length}", nameof(parameters));
        }

        cancellationToken.ThrowIfCancellationRequested();
        CatchUpMomentum();
        Momentum?.BeginRound();
        parameters.Span.CopyTo(_parameters);
        _version = version;
        _round.SampleDelays(version, _delays);
        _arrivalCount = 0;
        for (int w = 0; w < _delays.Length; w++)
        {
            if (!double.IsPositiveInfinity(_delays[w]))
            {
                _order[_arrivalCount++] = w;
            }
        }

        Array.Sort(_order, 0, _arrivalCount, _byArrival);
        Array.Clear(_computed);
        _nextRow = 0;
        _cursor = 0;
        _crafted0 = false;
        _prefetched = false;
        GradientsComputed = 0;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public IAsyncEnumerable<Arrival> ReadArrivalsAsync(CancellationToken cancellationToken = default) => new ArrivalStream(this, cancellationToken);

    private bool TryNext(out Arrival arrival)
    {
        if (_version < 0 || _cursor >= _arrivalCount)
        {
            arrival = default;
            return false;
        }

        if (!_prefetched)
        {
            _prefetched = true;
            Prefetch();
        }

        int w = _order[_cursor++];
        Ensure(w);
        arrival = new Arrival(w, _version, Wire == WireFormat.Float32 ? _memory[w] : ThroughWire(w), _delays[w]);
        return true;
    }

    /// <summary>
    /// Worker <paramref name="worker"/>'s gradient as the server decodes it from <see cref="Wire"/>: encoded and decoded
    /// through <see cref="GradientCodec"/>, in place, or, for an honest row the attack reads, into the collector's next
    /// row (or a scratch row, valid until the stream advances, as <see cref="Arrival.Gradient"/> needs to be).
    /// </summary>
    private Memory<float> ThroughWire(int worker)
    {
        var sent = _memory[worker];
        bool attackView = _byzantine?.Attack is not null && !_round.IsCrafted(worker);
        var decoded = attackView ? CollectorRow() ?? (Memory<float>)(_wireRow ??= new float[_dimension]) : sent;
        int bytes = _dimension * Wire.BytesPerValue();
        if (_wireBytes?.Length != bytes)
        {
            _wireBytes = new byte[bytes];
        }

        GradientCodec.Encode(Wire, sent.Span, _wireBytes);
        GradientCodec.Decode(Wire, _wireBytes, decoded.Span);
        return decoded;
    }

    private void Ensure(int worker)
    {
        if (_computed[worker])
        {
            return;
        }

        if (_round.IsCrafted(worker))
        {
            Craft();
            return;
        }

        Compute(worker);
    }

    /// <summary>The last round's gradients of answering workers the server did not read, folded into their momenta.</summary>
    private void CatchUpMomentum()
    {
        if (Momentum is null || _version < 0)
        {
            return;
        }

        if (Threads is { Count: > 1 } threads)
        {
            CatchUpInParallel(threads);
            return;
        }

        bool parametersSet = false;
        for (int i = 0; i < _arrivalCount; i++)
        {
            int w = _order[i];
            if (_computed[w] || _round.IsCrafted(w))
            {
                continue;
            }

            if (!parametersSet)
            {
                // The oracle may have moved on (test evaluation shares it): back to the last round's x.
                _round.Oracle.SetParameters(_parameters);
                parametersSet = true;
            }

            _momentumScratch ??= new float[_dimension];
            _round.ComputeGradient(w, _version, _momentumScratch);
            _computed[w] = true;
            GradientsComputed++;
        }
    }

    /// <summary>
    /// <see cref="CatchUpMomentum"/> on P threads: the unread workers' gradients in chunks of P into P scratch rows,
    /// each chunk's folded into the momenta on this thread afterwards.
    /// </summary>
    private void CatchUpInParallel(GradientThreads threads)
    {
        int p = threads.Count;
        _catchUpRows ??= new GradientBatch(p, _dimension);
        var workers = new int[p];
        var rows = new Memory<float>[p];
        for (int j = 0; j < p; j++)
        {
            rows[j] = _catchUpRows.Buffer.AsMemory(j * _dimension, _dimension);
        }

        int i = 0;
        while (i < _arrivalCount)
        {
            int count = 0;
            for (; i < _arrivalCount && count < p; i++)
            {
                int w = _order[i];
                if (!_computed[w] && !_round.IsCrafted(w))
                {
                    workers[count++] = w;
                }
            }

            if (count == 0)
            {
                break;
            }

            threads.Compute(_round, _version, _parameters, workers, rows, count);
            for (int j = 0; j < count; j++)
            {
                _round.Momentum!.Apply(workers[j], rows[j].Span);
                _computed[workers[j]] = true;
                GradientsComputed++;
            }
        }
    }

    /// <summary>
    /// With <see cref="Threads"/>, computes the gradients this round will read in the normal course on P threads, each
    /// into the row the one-at-a-time path would give it (see remarks): with a crafting attack the honest workers among
    /// the first k arrivals, in arrival order, into the honest buffer (the attack's view); otherwise the first k
    /// arrivals (the collector's k for this round) into the rows the collector reserves for its next offers.
    /// </summary>
    private void Prefetch()
    {
        if (Threads is not { Count: > 1 } threads)
        {
            return;
        }

        bool crafting = _byzantine?.Attack is not null;
        var collector = Collector is { } c && c.Dimension == _dimension && c.Version == _version && !crafting ? c : null;
        int limit = Math.Min(_arrivalCount, collector?.K ?? K);
        _batchWorkers ??= new int[WorkerCount];
        _batchRows ??= new Memory<float>[WorkerCount];
        int count = 0;
        for (int i = 0; i < limit; i++)
        {
            int w = _order[i];
            if (!_computed[w] && !_round.IsCrafted(w))
            {
                _batchWorkers[count++] = w;
            }
        }

        if (count < 2)
        {
            return;
        }

        // Without a crafting attack these are exactly the next `count` offers, in order: the collector's first rows.
        var reserved = collector?.ReserveRows(_version, count);
        for (int i = 0; i < count; i++)
        {
            _batchRows[i] = reserved is not null ? reserved.Buffer.AsMemory(i * _dimension, _dimension) : NextRow();
        }

        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        threads.Compute(_round, _version, _parameters, _batchWorkers, _batchRows, count);
        for (int i = 0; i < count; i++)
        {
            int w = _batchWorkers[i];
            _round.Momentum?.Apply(w, _batchRows[i].Span);
            _memory[w] = _batchRows[i];
            _computed[w] = true;
        }

        GradientsComputed += count;
        OracleSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Worker <paramref name="worker"/>'s oracle gradient (honest, or label-flipped for a label-flip Byzantine worker).</summary>
    private void Compute(int worker)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (GradientsComputed == 0)
        {
            _round.Oracle.SetParameters(_parameters);
        }

        // With a crafting attack, rows are handed out in the order gradients are computed, so the honest gradients the
        // attack sees are the first rows of the buffer and reach it without a copy. Without one, the gradient is
        // written straight into the collector's next row (it is offered next), which the collector then only checks.
        var destination = (_byzantine?.Attack is null ? CollectorRow() : null) ?? NextRow();
        _memory[worker] = destination;
        _round.ComputeGradient(worker, _version, destination.Span);
        OracleSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        _computed[worker] = true;
        GradientsComputed++;
    }

    /// <summary>The next row of the honest buffer (allocated on first use).</summary>
    private Memory<float> NextRow()
    {
        _gradients ??= new GradientBatch(WorkerCount, _dimension);
        int row = _nextRow++;
        return _gradients.Buffer.AsMemory(row * _dimension, _dimension);
    }

    /// <summary>The collector's next row when it is collecting this round and has room, else null.</summary>
    private Memory<float>? CollectorRow() =>
        Collector is { } collector && collector.Dimension == _dimension ? collector.ReserveNextRow(_version) : null;

    private void Craft()
    {
        if (_crafted0)
        {
            return;
        }

        _crafted0 = true;
        var crafted = _crafted!;
        int firstHonest = -1;
        for (int i = 0; i < _arrivalCount; i++)
        {
            int w = _order[i];
            if (_round.IsByzantine(w))
            {
                continue;
            }

            if (firstHonest < 0)
            {
                firstHonest = w;
            }

            if (i < K && !_computed[w])
            {
                Compute(w);
            }
        }

        if (_nextRow == 0)
        {
            // No honest worker among the first k: the attacker still sees one honest gradient, the first to answer
            // (or worker-order's first honest one when every honest worker crashed this round).
            // (The Byzantine workers are the last ids, so worker 0 is honest.)
            Compute(firstHonest >= 0 ? firstHonest : 0);
        }

        var target = DirectTarget() ?? crafted;

        // The honest view is the buffer's first rows (every gradient computed so far this round is honest).
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var honest = _gradients!;
        honest.Count = _nextRow;
        try
        {
            _round.Craft(honest, _version, AttackAggregationContext, target);
        }
        finally
        {
            honest.Count = honest.Capacity;
        }

        AttackSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        foreach (var w in _byzantine!.Workers)
        {
            int slot = _byzantine.Set.SlotOf(w);
            _memory[w] = target.Buffer.AsMemory(slot * target.Dimension, target.Dimension);
            _computed[w] = true;
        }
    }

    /// <summary>
    /// The collector's first f rows (<see cref="Collection.RoundCollector.ReserveRows"/>) when the round's first f
    /// arrivals are the Byzantine workers in slot order (fast timing), so the crafted rows are written where the
    /// collector will accept them. Null otherwise.
    /// </summary>
    private GradientBatch? DirectTarget()
    {
        var collector = Collector;
        int f = _byzantine!.Workers.Count;
        if (collector is null || collector.Dimension != _dimension || f > _arrivalCount)
        {
            return null;
        }

        for (int p = 0; p < f; p++)
        {
            int w = _order[p];
            if (!_round.IsByzantine(w) || _byzantine.Set.SlotOf(w) != p)
            {
                return null;
            }
        }

        return collector.ReserveRows(_version, f);
    }

    /// <summary>A synchronous enumerator over the round's schedule: no allocation per arrival, nothing to await.</summary>
    private sealed class ArrivalStream(SimulatedTransport owner, CancellationToken outer) : IAsyncEnumerable<Arrival>, IAsyncEnumerator<Arrival>
    {
        private CancellationToken _token = outer;

        public Arrival Current { get; private set; }

        public IAsyncEnumerator<Arrival> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            if (cancellationToken.CanBeCanceled)
            {
                _token = cancellationToken;
            }

            return this;
        }

        public ValueTask<bool> MoveNextAsync()
        {
            _token.ThrowIfCancellationRequested();
            bool more = owner.TryNext(out var arrival);
            Current = arrival;
            return ValueTask.FromResult(more);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Stragglers;
using Dstar.Engine.Randomness;
using Dstar.Engine.Transport;
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
/// </remarks>
public sealed class SimulatedTransport : ITransport
{
    private readonly IGradientOracle _oracle;
    private float[]? _scratch;
    private readonly IReadOnlyList<int[]> _shards;
    private readonly IDelayModel _delay;
    private readonly ByzantineSetup? _byzantine;
    private readonly bool[] _isByzantine;
    private readonly int[] _byzantineSlot;
    // Honest rows in compute order: the attack's view of the round. Allocated on first use, which with no crafting
    // attack is only when a gradient cannot go straight into the collector's batch (no collector on this round).
    private GradientBatch? _gradients;
    private readonly int _dimension;
    private readonly bool[] _computed;
    private readonly double[] _delays;
    private readonly int[] _order;
    private readonly int[] _minibatch;
    private readonly float[] _parameters;
    private readonly ReadOnlyMemory<float>[] _memory;
    private readonly GradientBatch? _crafted;
    private readonly Comparer<int> _byArrival;
    private GradientBatch? _collectorView;
    private int _nextRow;
    private int _arrivalCount;
    private int _cursor;
    private bool _crafted0;
    private long _version = -1;

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
        _oracle = oracle ?? throw new ArgumentNullException(nameof(oracle));
        _shards = shards ?? throw new ArgumentNullException(nameof(shards));
        _delay = delay ?? throw new ArgumentNullException(nameof(delay));
        int n = shards.Count;
        if (n == 0)
        {
            throw new ArgumentException("there are no workers", nameof(shards));
        }

        for (int w = 0; w < n; w++)
        {
            if (shards[w] is null || shards[w].Length == 0)
            {
                throw new ArgumentException($"worker {w} has an empty data shard", nameof(shards));
            }
        }

        if (batchSize < 1)
        {
            throw new ArgumentException($"batch size must be ≥ 1, got {batchSize}", nameof(batchSize));
        }

        if (k < 1 || k > n)
        {
            throw new ArgumentException($"k must be in 1..N = {n}, got {k}", nameof(k));
        }

        K = k;
        Seed = seed;
        Pipeline = pipeline;
        _byzantine = byzantine;
        _isByzantine = new bool[n];
        _byzantineSlot = new int[n];
        if (byzantine is not null)
        {
            for (int j = 0; j < byzantine.Workers.Count; j++)
            {
                int w = byzantine.Workers[j];
                if ((uint)w >= (uint)n || _isByzantine[w])
                {
                    throw new ArgumentException($"Byzantine worker id {w} is out of 0..{n - 1} or repeated", nameof(byzantine));
                }

                _isByzantine[w] = true;
                _byzantineSlot[w] = j;
            }

            if (byzantine.Workers.Count == n)
            {
                throw new ArgumentException("every worker is Byzantine; at least one must be honest", nameof(byzantine));
            }
        }

        int d = oracle.ParameterCount;
        _dimension = d;
        _memory = new ReadOnlyMemory<float>[n];
        _computed = new bool[n];
        _delays = new double[n];
        _order = new int[n];
        _minibatch = new int[batchSize];
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
    public int WorkerCount => _shards.Count;

    /// <inheritdoc />
    public bool UsesVirtualTime => true;

    /// <summary>k, as given.</summary>
    public int K { get; }

    /// <summary>The run seed.</summary>
    public int Seed { get; }

    /// <summary>The server's pipeline, passed to attacks.</summary>
    public AggregationPipeline? Pipeline { get; }

    /// <summary>The context the server aggregates with (f, g₀), passed to adaptive attacks when set.</summary>
    public AggregationContext? AttackAggregationContext { get; set; }

    /// <summary>
    /// The server's collector, when the simulator wires one in: when the Byzantine workers are the round's first
    /// arrivals (fast timing), the attack then writes their rows straight into the collector's batch rows where they
    /// will be accepted, which the collector recognises and does not copy. Null: crafted rows go to the transport's
    /// own buffer and are copied on arrival. Results are the same either way.
    /// </summary>
    public Collection.RoundCollector? Collector { get; set; }

    /// <summary>The response times sampled for the current round, per worker (+∞: never answers).</summary>
    public ReadOnlySpan<double> RoundDelays => _delays;

    /// <summary>Whether worker <paramref name="worker"/> is Byzantine.</summary>
    public bool IsByzantine(int worker) => _isByzantine[worker];

    /// <summary>How many gradients (honest or label-flipped) the oracle computed this round.</summary>
    public int GradientsComputed { get; private set; }

    /// <summary>Wall-clock seconds spent inside the oracle since creation (for the overhead benchmark).</summary>
    public double OracleSeconds { get; private set; }

    /// <summary>Wall-clock seconds spent crafting Byzantine gradients since creation (the Byzantine workers' computation).</summary>
    public double AttackSeconds { get; private set; }

    /// <summary>
    /// Worker momentum (config <c>worker_momentum</c>), or null: honest and label-flip workers send momentum vectors.
    /// With it, every worker that would answer computes its gradient every round, as on a cluster, even when it is not
    /// among the first k: the gradients the server did not need are computed when the next round is published, so that
    /// each worker's momentum sees the same rounds as a cluster worker's.
    /// </summary>
    public Workers.WorkerMomentum? Momentum { get; set; }

    /// <inheritdoc />
    public ValueTask PublishAsync(long version, ReadOnlyMemory<float> parameters, CancellationToken cancellationToken = default)
    {
        if (parameters.Length != _parameters.Length)
        {
            throw new ArgumentException($"parameters have {parameters.Length} values, the model {_parameters.Length}", nameof(parameters));
        }

        cancellationToken.ThrowIfCancellationRequested();
        CatchUpMomentum();
        parameters.Span.CopyTo(_parameters);
        _version = version;
        var random = RandomStreams.Create(Seed, version, StreamPurpose.Delays);
        bool fast = _byzantine?.Timing == ByzantineTiming.Fast;
        _arrivalCount = 0;
        for (int w = 0; w < _delays.Length; w++)
        {
            // Every worker draws, so that the honest workers' times do not depend on the Byzantine timing.
            double time = _delay.Sample(w, (int)Math.Min(version, int.MaxValue), random);
            if (double.IsNaN(time) || time < 0)
            {
                throw new InvalidOperationException($"delay model '{_delay.Name}' returned {time} for worker {w} in round {version}; times must be ≥ 0 or +∞");
            }

            _delays[w] = fast && _isByzantine[w] ? 0 : time;
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

        int w = _order[_cursor++];
        Ensure(w);
        arrival = new Arrival(w, _version, _memory[w], _delays[w]);
        return true;
    }

    private void Ensure(int worker)
    {
        if (_computed[worker])
        {
            return;
        }

        if (_isByzantine[worker] && _byzantine!.Attack is not null)
        {
            Craft();
            return;
        }

        Compute(worker, flipLabels: _isByzantine[worker]);
    }

    private void Compute(int worker, bool flipLabels)
    {
        var shard = _shards[worker];
        var random = RandomStreams.Create(Seed, _version, StreamPurpose.Minibatch, worker);
        for (int i = 0; i < _minibatch.Length; i++)
        {
            _minibatch[i] = shard[random.Next(shard.Length)];
        }

        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (GradientsComputed == 0)
        {
            _oracle.SetParameters(_parameters);
        }

        // With a crafting attack, rows are handed out in the order gradients are computed, so the honest gradients the
        // attack sees are the first rows of the buffer and reach it without a copy. Without one, the gradient is
        // written straight into the collector's next row (it is offered next), which the collector then only checks.
        var destination = (_byzantine?.Attack is null ? CollectorRow() : null) ?? NextRow();
        _memory[worker] = destination;
        _oracle.ComputeGradient(_minibatch, destination.Span, flipLabels);
        Momentum?.Apply(worker, destination.Span);
        OracleSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        _computed[worker] = true;
        GradientsComputed++;
    }

    /// <summary>
    /// With worker momentum: the workers of the last round that answered (finite delay) but whose gradient nobody read
    /// compute it now, at the last round's parameters, into scratch space, so that their momentum advances as a cluster
    /// worker's does.
    /// </summary>
    private void CatchUpMomentum()
    {
        if (Momentum is null || _version < 0)
        {
            return;
        }

        bool parametersSet = false;
        for (int i = 0; i < _arrivalCount; i++)
        {
            int w = _order[i];
            if (!_computed[w] && !(_isByzantine[w] && _byzantine!.Attack is not null))
            {
                if (!parametersSet)
                {
                    // The oracle may have moved on (test evaluation shares it): back to the last round's x.
                    _oracle.SetParameters(_parameters);
                    parametersSet = true;
                }

                var shard = _shards[w];
                var random = RandomStreams.Create(Seed, _version, StreamPurpose.Minibatch, w);
                for (int j = 0; j < _minibatch.Length; j++)
                {
                    _minibatch[j] = shard[random.Next(shard.Length)];
                }

                _scratch ??= new float[_dimension];

                _oracle.ComputeGradient(_minibatch, _scratch, _isByzantine[w]);
                Momentum.Apply(w, _scratch);
                _computed[w] = true;
                GradientsComputed++;
            }
        }
    }

    /// <summary>The next row of the honest buffer (allocated on first use).</summary>
    private Memory<float> NextRow()
    {
        _gradients ??= new GradientBatch(_isByzantine.Length, _dimension);
        int row = _nextRow++;
        return _gradients.Buffer.AsMemory(row * _dimension, _dimension);
    }

    /// <summary>The collector's next row when it is collecting this round and has room, else null.</summary>
    private Memory<float>? CollectorRow()
    {
        var collector = Collector;
        if (collector is null || collector.Version != _version || collector.IsComplete || collector.Dimension != _dimension)
        {
            return null;
        }

        return collector.Batch.Buffer.AsMemory(collector.AcceptedCount * _dimension, _dimension);
    }

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
            if (_isByzantine[w])
            {
                continue;
            }

            if (firstHonest < 0)
            {
                firstHonest = w;
            }

            if (i < K && !_computed[w])
            {
                Compute(w, flipLabels: false);
            }
        }

        if (_nextRow == 0)
        {
            // No honest worker among the first k: the attacker still sees one honest gradient, the first to answer
            // (or worker-order's first honest one when every honest worker crashed this round).
            firstHonest = firstHonest >= 0 ? firstHonest : Array.IndexOf(_isByzantine, false);
            Compute(firstHonest, flipLabels: false);
        }

        var context = new AttackContext(K, _byzantine!.Workers.Count, RandomStreams.Create(Seed, _version, StreamPurpose.Attack))
        {
            Pipeline = Pipeline,
            AggregationContext = AttackAggregationContext,
        };

        var target = DirectTarget() ?? crafted;

        // The honest view is the buffer's first rows (every gradient computed so far this round is honest).
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var honest = _gradients!;
        honest.Count = _nextRow;
        try
        {
            _byzantine.Attack!.Craft(honest, context, target);
        }
        finally
        {
            honest.Count = honest.Capacity;
        }

        AttackSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        foreach (var w in _byzantine.Workers)
        {
            int slot = _byzantineSlot[w];
            _memory[w] = target.Buffer.AsMemory(slot * target.Dimension, target.Dimension);
            _computed[w] = true;
        }
    }

    /// <summary>
    /// The collector's batch, limited to its first f rows, when the crafted rows can be written where the collector
    /// will accept them: the collector is on this round with nothing accepted yet, and the round's first f arrivals are
    /// the Byzantine workers in slot order (fast timing). Each is then accepted into row = its slot unless an earlier
    /// one is dropped (non-finite), in which case the collector copies the later rows one row down, never over a row
    /// not yet read. Null otherwise.
    /// </summary>
    private GradientBatch? DirectTarget()
    {
        var collector = Collector;
        int f = _byzantine!.Workers.Count;
        if (collector is null || collector.Version != _version || collector.AcceptedCount != 0 || collector.Dimension != _dimension
            || f > collector.K || f > _arrivalCount)
        {
            return null;
        }

        for (int p = 0; p < f; p++)
        {
            int w = _order[p];
            if (!_isByzantine[w] || _byzantineSlot[w] != p)
            {
                return null;
            }
        }

        if (_collectorView is null || !ReferenceEquals(_collectorView.Buffer, collector.Batch.Buffer))
        {
            _collectorView = new GradientBatch(collector.Batch.Buffer, collector.Batch.Capacity, collector.Dimension);
        }

        _collectorView.Count = f;
        return _collectorView;
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

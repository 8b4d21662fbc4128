using System.Diagnostics;
using System.Numerics.Tensors;
using Dstar.Core;
using Dstar.Core.Kernels;
using Dstar.Core.Optimization;
using Dstar.Engine.Collection;
using Dstar.Engine.Randomness;
using Dstar.Engine.Transport;
using Dstar.Learning;

namespace Dstar.Engine.Server;

/// <summary>
/// The parameter server: it owns x_t, the version t, the optimizer state, the aggregation pipeline and the validation
/// split. One round is publish → collect (first k, with g₀ computed meanwhile) → aggregate → step → record
/// (<see cref="RunRoundAsync"/>). It never knows whether its transport is simulated or a network.
/// </summary>
/// <remarks>
/// The server never steps on unfiltered input it cannot vouch for: non-finite or wrong-length gradients never reach
/// the rule (the collector drops them), and an aggregate with a non-finite value aborts the round with an
/// <see cref="AggregationException"/> before x changes.
/// </remarks>
public sealed class ParameterServer
{
    private readonly float[] _parameters;
    private float[] _aggregate;
    private readonly float[] _parametersBefore;
    private readonly float[] _velocityBefore;
    private readonly float[]? _validationGradient;
    private float[]? _previousAggregate;
    private readonly RoundCollector _collector;
    private readonly AggregationContext _context;
    private readonly AdaptiveK? _adaptive;
    private readonly List<(long Round, double Time)> _pendingLate = new();
    private readonly Dictionary<long, double> _publishTimes = new();
    private readonly Stopwatch _serverClock = new();
    private double _virtualNow;

    /// <summary>Creates a server starting from <paramref name="initialParameters"/> (copied) at version 0.</summary>
    /// <param name="options">N, k, f, deadline, k_min, seed.</param>
    /// <param name="initialParameters">x₀, d floats.</param>
    /// <param name="pipeline">Pre-aggregators and rule.</param>
    /// <param name="optimizer">SGD of dimension d.</param>
    /// <param name="validation">The trusted validation split for g₀, or null (then rules needing g₀ are refused here).</param>
    /// <param name="evaluator">Test-set evaluation at given parameters, or null.</param>
    /// <exception cref="ArgumentException">the dimensions disagree, or the rule cannot run with these n, f and validation.</exception>
    public ParameterServer(
        ParameterServerOptions options,
        ReadOnlySpan<float> initialParameters,
        AggregationPipeline pipeline,
        Sgd optimizer,
        ValidationSet? validation = null,
        Func<ReadOnlyMemory<float>, Evaluation>? evaluator = null)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        Pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        if (initialParameters.Length == 0)
        {
            throw new ArgumentException("the parameter vector is empty", nameof(initialParameters));
        }

        if (optimizer.Velocity.Length != initialParameters.Length)
        {
            throw new ArgumentException($"the optimizer has dimension {optimizer.Velocity.Length}, the parameters {initialParameters.Length}", nameof(optimizer));
        }

        if (validation is not null && validation.Oracle.ParameterCount != initialParameters.Length)
        {
            throw new ArgumentException($"the validation oracle has {validation.Oracle.ParameterCount} parameters, the server {initialParameters.Length}", nameof(validation));
        }

        _collector = new RoundCollector(options.WorkerCount, initialParameters.Length, options.K, options.Deadline, options.MinimumCount);
        if (pipeline.Rule.CheckRequirements(options.K, options.ByzantineCount, validation is not null) is { } why)
        {
            throw new ArgumentException($"aggregator '{pipeline.Name}' cannot run on the first k = {options.K} gradients: {why}", nameof(pipeline));
        }

        if (pipeline.Rule is Dstar.Core.Aggregation.DstarFilter { Reputation: { } reputation })
        {
            // An excluded worker's gradient does not count towards k; at most N − k are kept out, so a round can fill.
            if (pipeline.PreAggregators.Count > 0)
            {
                throw new ArgumentException($"aggregator '{pipeline.Name}': dstar's reputation needs each row's worker, which a pre-aggregator hides; drop the pre-aggregators or reputation", nameof(pipeline));
            }

            _collector.Excludes = reputation.Excludes;
            _collector.MaxExcluded = options.WorkerCount - options.K;
        }

        if (options.AutoK)
        {
            var (floor, floorWhy) = AdaptiveK.FloorFor(options.MinimumCount, options.ByzantineCount,
                n => pipeline.Rule.CheckRequirements(n, options.ByzantineCount, validation is not null) is null, options.WorkerCount);
            if (floor > options.K)
            {
                throw new ArgumentException($"k: auto cannot pick any k: the floor is {floor} ({floorWhy}), above k_max = {options.K}", nameof(options));
            }

            _adaptive = new AdaptiveK(options.WorkerCount, floor, options.K);
        }

        Validation = validation;
        Evaluator = evaluator;
        _parameters = initialParameters.ToArray();
        _aggregate = new float[_parameters.Length];
        _parametersBefore = new float[_parameters.Length];
        _velocityBefore = new float[_parameters.Length];
        _validationGradient = validation is null ? null : new float[_parameters.Length];
        _context = new AggregationContext(options.ByzantineCount)
        {
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
        };
        if (validation is not null)
        {
            _context.ValidationLoss = validation.Loss;
        }
    }

    /// <summary>The options the server runs with.</summary>
    public ParameterServerOptions Options { get; }

    /// <summary>The pre-aggregators and rule.</summary>
    public AggregationPipeline Pipeline { get; }

    /// <summary>The optimizer (its velocity is part of a checkpoint).</summary>
    public Sgd Optimizer { get; }

    /// <summary>The validation split, or null.</summary>
    public ValidationSet? Validation { get; }

    /// <summary>Test evaluation, or null.</summary>
    public Func<ReadOnlyMemory<float>, Evaluation>? Evaluator { get; }

    /// <summary>t: the version that the next round publishes (the number of steps taken).</summary>
    public long Version { get; private set; }

    /// <summary>x_t (d floats). Read-only view; use <see cref="Restore"/> to change it.</summary>
    public ReadOnlyMemory<float> Parameters => _parameters;

    /// <summary>The previous round's aggregate, or null before the first step.</summary>
    public ReadOnlyMemory<float>? PreviousAggregate =>
        _previousAggregate is null ? default(ReadOnlyMemory<float>?) : _previousAggregate.AsMemory();

    /// <summary>Wall-clock seconds spent computing g₀ so far (for the simulator-overhead benchmark).</summary>
    public double ValidationSeconds { get; private set; }

    /// <summary>Wall-clock seconds spent in pre-aggregators and the rule so far.</summary>
    public double AggregationSeconds { get; private set; }

    /// <summary>Wall-clock seconds spent evaluating on the test set so far.</summary>
    public double EvaluationSeconds { get; private set; }

    /// <summary>
    /// The context the rule aggregates with (f, this round's g₀ once computed, the previous aggregate). The simulator
    /// hands it to omniscient attacks, which the threat model of docs/method.md allows to know g₀; treat it as read-only.
    /// </summary>
    public AggregationContext Context => _context;

    /// <summary>The collector (its settings: k, deadline, k_min).</summary>
    public RoundCollector Collector => _collector;

    /// <summary>The <c>k: auto</c> policy, or null for a fixed k.</summary>
    public AdaptiveK? AdaptiveK => _adaptive;

    /// <summary>
    /// Replaces the server's state (resume from a checkpoint): version, parameters, optimizer velocity and the
    /// previous aggregate.
    /// </summary>
    /// <exception cref="ArgumentException">a vector has the wrong length or the version is negative.</exception>
    public void Restore(long version, ReadOnlySpan<float> parameters, ReadOnlySpan<float> velocity, bool hasVelocity, ReadOnlySpan<float> previousAggregate, bool hasPreviousAggregate)
    {
        int d = _parameters.Length;
        if (version < 0 || parameters.Length != d || velocity.Length != d || (hasPreviousAggregate && previousAggregate.Length != d))
        {
            throw new ArgumentException($"state does not fit this server: version {version}, {parameters.Length} parameters, {velocity.Length} velocity values, expected d = {d}");
        }

        Version = version;
        parameters.CopyTo(_parameters);
        velocity.CopyTo(Optimizer.Velocity);
        Optimizer.HasVelocity = hasVelocity;
        _previousAggregate = hasPreviousAggregate ? previousAggregate.ToArray() : null;
    }

    /// <summary>
    /// The <c>k: auto</c> state a checkpoint carries (null for a fixed k): the policy's window, and the server's own
    /// bookkeeping for it: the virtual clock, the late response times not yet revealed and the window's publish times.
    /// </summary>
    public AutoKState? CaptureAutoK() => _adaptive is null
        ? null
        : new AutoKState(_virtualNow, _adaptive.Capture(), _pendingLate.ToArray(), _publishTimes.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)).ToArray());

    /// <summary>Checks that <paramref name="state"/> fits this server's <c>k: auto</c> policy, without changing anything.</summary>
    /// <exception cref="ArgumentException">the server has a fixed k, or the state is malformed (the message says how).</exception>
    public void CheckAutoK(AutoKState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_adaptive is null)
        {
            throw new ArgumentException("this server has a fixed k, not k: auto", nameof(state));
        }

        new AdaptiveK(_adaptive.WorkerCount, _adaptive.Floor, _adaptive.Maximum).Restore(state.Window);
        if (!(state.VirtualNow >= 0 && double.IsFinite(state.VirtualNow))
            || state.PendingLate.Any(p => !(p.Time >= 0 && double.IsFinite(p.Time)))
            || state.PublishTimes.Any(p => !double.IsFinite(p.Time))
            || state.PublishTimes.Select(p => p.Round).Distinct().Count() != state.PublishTimes.Count)
        {
            throw new ArgumentException($"k: auto state: virtual clock {state.VirtualNow}, {state.PendingLate.Count} pending late times and {state.PublishTimes.Count} publish times, of which some are negative, not finite or repeated", nameof(state));
        }
    }

    /// <summary>Replaces the <c>k: auto</c> state with <paramref name="state"/> (a <see cref="CaptureAutoK"/>).</summary>
    /// <exception cref="ArgumentException">see <see cref="CheckAutoK"/>; nothing is changed.</exception>
    public void RestoreAutoK(AutoKState state)
    {
        CheckAutoK(state);
        _adaptive!.Restore(state.Window);
        _virtualNow = state.VirtualNow;
        _pendingLate.Clear();
        _pendingLate.AddRange(state.PendingLate);
        _publishTimes.Clear();
        foreach (var (round, time) in state.PublishTimes)
        {
            _publishTimes[round] = time;
        }
    }

    /// <summary>
    /// Runs round t = <see cref="Version"/>: publishes x_t, computes g₀ while the workers compute, collects the first k
    /// gradients for version t, aggregates, steps to x_{t+1}, and evaluates on the test set when asked.
    /// </summary>
    /// <param name="transport">Where the workers are.</param>
    /// <param name="evaluate">Whether to evaluate x_{t+1} on the test set (needs an evaluator).</param>
    /// <param name="cancellationToken">Cancels the wait for gradients.</param>
    /// <exception cref="InvalidOperationException">the workers stopped answering before the round could close.</exception>
    /// <exception cref="AggregationException">the rule refused the input, produced a non-finite aggregate, or the step would overflow x (x and the optimizer state are unchanged).</exception>
    public async Task<RoundEvent> RunRoundAsync(ITransport transport, bool evaluate = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (transport.WorkerCount != Options.WorkerCount)
        {
            throw new ArgumentException($"the transport serves {transport.WorkerCount} workers, the server expects {Options.WorkerCount}", nameof(transport));
        }

        var clock = Stopwatch.StartNew();
        long t = Version;
        await transport.PublishAsync(t, _parameters, cancellationToken).ConfigureAwait(false);
        long published = Stopwatch.GetTimestamp();

        // g₀ is computed right after publishing: on a network the workers are computing meanwhile.
        double validationLoss = double.NaN;
        double validationSeconds = 0;
        if (Validation is not null)
        {
            long start = Stopwatch.GetTimestamp();
            validationLoss = Validation.ComputeGradient(_parameters, RandomStreams.Create(Options.Seed, t, StreamPurpose.Validation), _validationGradient);
            validationSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            ValidationSeconds += validationSeconds;
        }

        // The context is set once, before any gradient is read, so a simulated omniscient attack sees this round's g₀
        // (attacks read it, never its random source, which the pipeline draws from after collection).
        _context.ByzantineCount = Options.ByzantineCount;
        _context.ValidationGradient = _validationGradient;
        _context.Random = RandomStreams.Create(Options.Seed, t, StreamPurpose.Aggregation);
        _context.PreviousAggregate = _previousAggregate;
        _context.Parameters = _parameters;

        KChoice? choice = null;
        double publishTime = Now(transport);
        if (_adaptive is not null)
        {
            RevealLate(publishTime);
            choice = _adaptive.Choose(publishTime);
            _publishTimes[t] = publishTime;
            _publishTimes.Remove(t - AdaptiveK.Window - 1);
        }

        if (choice is not null && _collector.Excludes is not null)
        {
            // Reputation: at most N − k excluded workers are kept out, for this round's k.
            _collector.MaxExcluded = Options.WorkerCount - choice.K;
        }

        _collector.Begin(t, choice?.K ?? _collector.Capacity);
        await CollectAsync(transport, cancellationToken).ConfigureAwait(false);
        double waitSeconds = Stopwatch.GetElapsedTime(published).TotalSeconds;
        _collector.Close();

        long aggregationStart = Stopwatch.GetTimestamp();
        var (kept, filtered, scores, exact) = Aggregate();
        double aggregationSeconds = Stopwatch.GetElapsedTime(aggregationStart).TotalSeconds;
        AggregationSeconds += aggregationSeconds;
        if (_adaptive is not null)
        {
            ObserveRound(transport, t, publishTime, kept, exact);
        }

        float aggregateMagnitude = TensorPrimitives.MaxMagnitude(_aggregate);
        if (!float.IsFinite(aggregateMagnitude))
        {
            throw new AggregationException($"round {t}: '{Pipeline.Name}' produced a non-finite aggregate; the server did not step");
        }

        long stepStart = Stopwatch.GetTimestamp();
        if (StepCannotOverflow(aggregateMagnitude))
        {
            // The common case: the step provably stays finite, so nothing needs to be kept for a rollback.
            Optimizer.Step(_parameters, _aggregate);
        }
        else
        {
            StepOrRollBack(t);
        }

        double stepSeconds = Stopwatch.GetElapsedTime(stepStart).TotalSeconds;

        // This round's aggregate becomes the previous one by swapping buffers, not by copying d values; the old
        // previous buffer is overwritten by the next round's rule.
        (_previousAggregate, _aggregate) = (_aggregate, _previousAggregate ?? new float[_aggregate.Length]);
        Version = t + 1;

        Evaluation? evaluation = null;
        double evaluationSeconds = 0;
        if (evaluate && Evaluator is not null)
        {
            long evaluationStart = Stopwatch.GetTimestamp();
            evaluation = Evaluator(_parameters);
            evaluationSeconds = Stopwatch.GetElapsedTime(evaluationStart).TotalSeconds;
            EvaluationSeconds += evaluationSeconds;
        }

        // Wall-clock phases only for a wall-clock transport: a simulation's metrics stay the same run to run.
        RoundTiming? timing = null;
        if (!transport.UsesVirtualTime)
        {
            var worker = ClosingWorkerTiming(transport, t);
            timing = new RoundTiming(waitSeconds, worker?.Compute, worker?.Delay, worker?.Wire, validationSeconds, aggregationSeconds, stepSeconds, evaluationSeconds);
        }

        return new RoundEvent(
            t,
            _collector.CloseTime,
            clock.Elapsed.TotalSeconds,
            _collector.AcceptedWorkers.ToArray(),
            kept,
            filtered,
            _collector.Drops.ToArray(),
            validationLoss,
            TensorPrimitives.Norm(_previousAggregate),
            evaluation,
            Pipeline.Name,
            scores,
            exact,
            _collector.K,
            choice?.Reason,
            timing);
    }

    /// <summary>
    /// The split of the closing gradient's arrival time that its worker reported (<see cref="IWorkerTimings"/>):
    /// computing, the rest of the worker's own time, and the remainder on the way (never below 0); null when unknown.
    /// </summary>
    private (double Compute, double Delay, double Wire)? ClosingWorkerTiming(ITransport transport, long t)
    {
        var accepted = _collector.AcceptedWorkers;
        if (transport is not IWorkerTimings timings || accepted.Length == 0 || timings.WorkerTiming(accepted[^1], t) is not { } reported)
        {
            return null;
        }

        var (compute, local) = reported;
        double arrival = _collector.AcceptedTimes[^1];
        return (compute, Math.Max(0, local - compute), Math.Max(0, arrival - local));
    }

    /// <summary>The server's clock for <c>k: auto</c>: virtual seconds (the sum of round times) or wall seconds.</summary>
    private double Now(ITransport transport)
    {
        if (transport.UsesVirtualTime)
        {
            return _virtualNow;
        }

        _serverClock.Start();
        return _serverClock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Tells the policy what round t showed: the accepted arrival times and the noise of the kept gradients. In
    /// simulation the other workers' drawn times are held back and revealed (<see cref="RevealLate"/>) only once the
    /// virtual clock passes them, as a network server would learn them from late gradients.
    /// </summary>
    private void ObserveRound(ITransport transport, long t, double publishTime, int[] kept, bool exact)
    {
        var batch = _collector.Batch;
        var accepted = _collector.AcceptedWorkers;
        var times = _collector.AcceptedTimes;
        var delays = transport is IRoundDelays known ? known.RoundDelays : default;

        var (variance, signal) = NoiseStatistics(batch, accepted, kept, exact);
        bool[]? keptInArrivalOrder = null;
        if (exact)
        {
            keptInArrivalOrder = new bool[accepted.Length];
            for (int i = 0; i < accepted.Length; i++)
            {
                keptInArrivalOrder[i] = Array.BinarySearch(kept, accepted[i]) >= 0;
            }
        }

        _adaptive!.Observe(t, publishTime, times, variance, signal, lateMayArrive: delays.Length == _collector.WorkerCount, keptInArrivalOrder);
        if (transport.UsesVirtualTime)
        {
            _virtualNow += _collector.CloseTime;
            if (delays.Length == _collector.WorkerCount)
            {
                var isAccepted = new bool[delays.Length];
                foreach (var w in accepted)
                {
                    isAccepted[w] = true;
                }

                for (int w = 0; w < delays.Length; w++)
                {
                    if (!isAccepted[w] && double.IsFinite(delays[w]))
                    {
                        _pendingLate.Add((t, delays[w]));
                    }
                }
            }
        }
    }

    /// <summary>Simulation: hands the policy every held-back response time the virtual clock has now passed.</summary>
    private void RevealLate(double now)
    {
        for (int i = _pendingLate.Count - 1; i >= 0; i--)
        {
            var (round, time) = _pendingLate[i];
            if (!_publishTimes.TryGetValue(round, out var published))
            {
                _pendingLate.RemoveAt(i);
            }
            else if (published + time <= now)
            {
                _adaptive!.ObserveLate(round, time);
                _pendingLate.RemoveAt(i);
            }
        }
    }

    /// <summary>A gradient for an older version arrived (network): its response time for that round, on the server's clock.</summary>
    private void ObserveStale(in Arrival arrival, double publishTime)
    {
        if (_adaptive is not null && _publishTimes.TryGetValue(arrival.Version, out var published))
        {
            _adaptive.ObserveLate(arrival.Version, publishTime - published + arrival.Time);
        }
    }

    /// <summary>
    /// S = Σ‖gᵢ − ḡ‖² / (m − 1) and ‖ḡ‖² − S/m over the m kept gradients (all accepted ones when the kept rows are
    /// not known exactly); nulls with fewer than two.
    /// </summary>
    private static (double? Variance, double? Signal) NoiseStatistics(GradientBatch batch, ReadOnlySpan<int> accepted, int[] kept, bool exact)
    {
        var rows = new List<int>(accepted.Length);
        for (int i = 0; i < accepted.Length; i++)
        {
            if (!exact || Array.BinarySearch(kept, accepted[i]) >= 0)
            {
                rows.Add(i);
            }
        }

        int m = rows.Count;
        if (m < 2)
        {
            return (null, null);
        }

        var mean = new double[batch.Dimension];
        double squares = 0;
        foreach (var i in rows)
        {
            var row = batch.Row(i);
            double norm = TensorPrimitives.Norm(row);
            squares += norm * norm;
            for (int j = 0; j < row.Length; j++)
            {
                mean[j] += row[j];
            }
        }

        double meanSquare = 0;
        for (int j = 0; j < mean.Length; j++)
        {
            double v = mean[j] / m;
            meanSquare += v * v;
        }

        double variance = Math.Max(0, (squares - (m * meanSquare)) / (m - 1));
        return (variance, meanSquare - (variance / m));
    }

    /// <summary>
    /// Whether SGD's step from the current x and velocity with an aggregate of largest magnitude
    /// <paramref name="aggregateMagnitude"/> is bound to stay finite: with m = max|x|, u = max|v| (0 when the velocity
    /// is not yet set) and a = max|g|, every new velocity value is at most μu + a + λm and every new parameter at most
    /// m + η(μu + a + λm) in magnitude (m + ηa without momentum and weight decay). When that bound, computed in double,
    /// is below a quarter of float.MaxValue, float rounding (a relative error of 2⁻²⁴ per operation) cannot reach ±∞.
    /// Two read passes (x, v) replace the two copies and the finiteness check of the guarded step.
    /// </summary>
    private bool StepCannotOverflow(float aggregateMagnitude)
    {
        double eta = (float)Optimizer.LearningRate;
        double x = TensorPrimitives.MaxMagnitude(_parameters);
        double a = aggregateMagnitude;
        double bound;
        if (Optimizer.Momentum == 0 && Optimizer.WeightDecay == 0)
        {
            bound = x + (eta * a);
        }
        else
        {
            double v = Optimizer.HasVelocity ? TensorPrimitives.MaxMagnitude(Optimizer.Velocity) : 0;
            double velocity = ((float)Optimizer.Momentum * v) + a + ((float)Optimizer.WeightDecay * x);
            bound = Math.Max(velocity, x + (eta * velocity));
        }

        // NaN (a non-finite x or v) fails the comparison and takes the guarded path.
        return bound < float.MaxValue / 4.0;
    }

    /// <summary>The step near overflow: keeps x_t and the velocity, steps, and restores both when x became non-finite.</summary>
    /// <exception cref="AggregationException">the step overflowed x (x and the optimizer state are unchanged).</exception>
    private void StepOrRollBack(long t)
    {
        // Keep x_t and the momentum buffer until the step is known to be finite: a diverging run stops at its last
        // finite state instead of writing ±∞ into the parameters.
        _parameters.CopyTo(_parametersBefore, 0);
        Optimizer.Velocity.CopyTo(_velocityBefore);
        bool hadVelocity = Optimizer.HasVelocity;
        Optimizer.Step(_parameters, _aggregate);
        if (!NonFinite.AllFinite(_parameters))
        {
            _parametersBefore.CopyTo(_parameters, 0);
            _velocityBefore.CopyTo(Optimizer.Velocity);
            Optimizer.HasVelocity = hadVelocity;
            throw new AggregationException($"round {t}: the step with '{Pipeline.Name}''s aggregate (norm {TensorPrimitives.Norm(_aggregate):G3}) overflowed the parameters; the server kept x_{t}");
        }
    }

    /// <summary>Evaluates x_t on the test set now (null without an evaluator).</summary>
    public Evaluation? Evaluate() => Evaluator?.Invoke(_parameters);

    private async Task CollectAsync(ITransport transport, CancellationToken cancellationToken)
    {
        if (transport.UsesVirtualTime || Options.Deadline is not { } deadline)
        {
            await ReadUntilCompleteAsync(transport, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Wall clock: a timer cancels the read at the deadline; then the round closes if k_min are in, otherwise
        // the server keeps waiting for the k_min-th gradient without a timer.
        using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timer.CancelAfter(TimeSpan.FromSeconds(deadline));
            try
            {
                await ReadUntilCompleteAsync(transport, timer.Token).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (_collector.MarkDeadlinePassed())
                {
                    return;
                }
            }
        }

        await ReadUntilCompleteAsync(transport, cancellationToken).ConfigureAwait(false);
    }

    private async Task ReadUntilCompleteAsync(ITransport transport, CancellationToken cancellationToken)
    {
        if (_collector.IsComplete)
        {
            return;
        }

        await foreach (var arrival in transport.ReadArrivalsAsync(cancellationToken).ConfigureAwait(false))
        {
            var verdict = _collector.Offer(arrival);
            transport.Judged(arrival, verdict);
            if (verdict is { Reason: DropReason.Stale } && _adaptive is not null && !transport.UsesVirtualTime)
            {
                ObserveStale(arrival, _publishTimes.GetValueOrDefault(_collector.Version));
            }

            if (_collector.IsComplete)
            {
                return;
            }
        }
    }

    private (int[] Kept, int[] Filtered, double[]? Scores, bool Exact) Aggregate()
    {
        var batch = _collector.Batch;
        int n = batch.Count;

        // Worker ids reach the rule only while rows are still the workers' own (no pre-aggregator in between).
        _context.Workers = Pipeline.PreAggregators.Count == 0 ? _collector.AcceptedWorkers.ToArray() : null;
        var current = batch;
        foreach (var pre in Pipeline.PreAggregators)
        {
            current = pre.Apply(current, _context);
        }

        var report = Pipeline.Rule.Aggregate(current, _context, _aggregate);
        var accepted = _collector.AcceptedWorkers;
        if (current.Count != n)
        {
            var all = accepted.ToArray();
            Array.Sort(all);
            return (all, Array.Empty<int>(), null, false);
        }

        var keptSet = new bool[n];
        foreach (var row in report.Kept)
        {
            keptSet[row] = true;
        }

        var kept = new List<int>(n);
        var filtered = new List<int>();
        for (int i = 0; i < n; i++)
        {
            (keptSet[i] ? kept : filtered).Add(accepted[i]);
        }

        kept.Sort();
        filtered.Sort();
        return (kept.ToArray(), filtered.ToArray(), report.Scores?.ToArray(), true);
    }
}

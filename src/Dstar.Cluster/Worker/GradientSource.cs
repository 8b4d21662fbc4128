using Dstar.Cluster.Configuration;
using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Specs;
using Dstar.Core.Stragglers;
using Dstar.Engine.Configuration;
using Dstar.Engine.Randomness;
using Dstar.Engine.Server;
using Dstar.Engine.Transport;
using Dstar.Engine.Workers;
using Dstar.Learning;

namespace Dstar.Cluster.Worker;

/// <summary>
/// What worker w sends in round t: the Engine's <see cref="WorkerRound"/>, the same computation the simulated transport
/// runs, so that a cluster and a simulation of the same config produce the same gradients:
/// <list type="bullet">
/// <item>honest and label-flip workers: <see cref="WorkerRound.ComputeGradient"/>;</item>
/// <item>crafting Byzantine workers are omniscient, as in simulation: the worker recomputes the honest gradients of the
/// round (it has the same data and streams) and the server's g₀ (same validation split and stream), lets the attack
/// craft the f rows, then sends its own row. Unlike the simulator, which shows the attack the honest workers among the
/// first k to arrive, a real attacker cannot know the arrival order, so it sees every honest worker's gradient;</item>
/// <item>the response time: <see cref="WorkerRound.SampleDelays"/>'s draw for w (0 for fast Byzantine workers), scaled
/// to real time by <see cref="RealTimeOptions"/>.</item>
/// </list>
/// </summary>
public sealed class GradientSource : IDisposable
{
    private readonly ExperimentConfig _config;
    private readonly RealTimeOptions _realTime;
    private readonly Workload _workload;
    private readonly bool _ownsWorkload;
    private readonly IGradientOracle _oracle;
    private readonly WorkerRound _round;
    private DelayDraws _delays;
    private readonly GradientBatch? _honest;
    private readonly GradientBatch? _crafted;
    private readonly ValidationSet? _validation;
    private readonly float[]? _validationGradient;
    private readonly AggregationContext? _serverContext;

    /// <summary>Builds worker <paramref name="workerId"/>'s view of the run (loads the data and the model).</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is not a worker of this config.</exception>
    public GradientSource(ExperimentConfig config, int workerId, RealTimeOptions realTime)
        : this(config, CheckId(config, workerId), realTime, WorkloadFactory.Create(config), oracle: null, ownsWorkload: true)
    {
    }

    /// <summary>
    /// Builds worker <paramref name="workerId"/>'s view of the run on a workload another worker of this process already
    /// loaded (<see cref="ClusterWorker.RunGroupAsync"/>): the same data, and <paramref name="oracle"/>, a model replica
    /// of the worker's own. The workload stays its owner's: disposing this source leaves it alone.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is not a worker of this config.</exception>
    public GradientSource(ExperimentConfig config, int workerId, RealTimeOptions realTime, Workload shared, IGradientOracle oracle)
        : this(config, CheckId(config, workerId), realTime, shared ?? throw new ArgumentNullException(nameof(shared)), oracle ?? throw new ArgumentNullException(nameof(oracle)), ownsWorkload: false)
    {
    }

    private GradientSource(ExperimentConfig config, int workerId, RealTimeOptions realTime, Workload workload, IGradientOracle? oracle, bool ownsWorkload)
    {
        _config = config;
        _realTime = realTime;
        WorkerId = workerId;
        Wire = WireFormats.Parse(config.Wire);
        _workload = workload;
        _ownsWorkload = ownsWorkload;
        _oracle = oracle ?? workload.Oracle;
        var byzantine = ByzantineSetup.Of(config);
        IsByzantine = byzantine?.Set.Contains(workerId) == true;
        var crafts = IsByzantine && byzantine!.Attack is not null;
        _round = new WorkerRound(_oracle, _workload.Shards, config.BatchSize, Registry.Delays.Create(config.Delay, DiskSpecFiles.Instance),
            config.KCapacity, config.Seed, byzantine, crafts ? Registry.Pipeline(config.Aggregator, config.Pre) : null);
        _round.Momentum = config.WorkerMomentum > 0 ? new WorkerMomentum(config.Workers, config.WorkerMomentum) : null;
        _delays = new DelayDraws(config.Workers);
        if (crafts)
        {
            _honest = new GradientBatch(byzantine!.Set.FirstWorker, Dimension);
            _crafted = new GradientBatch(byzantine.Set.Count, Dimension);
            if (config.Data.ValidationSize > 0)
            {
                // The threat model lets an omniscient attacker know the server's g₀ (docs/method.md); it recomputes it
                // exactly, from the same validation split and the same (seed, t, validation) stream.
                _validation = new ValidationSet(_oracle, _workload.Validation, config.EffectiveValidationBatchSize);
                _validationGradient = new float[Dimension];
            }

            _serverContext = new AggregationContext(config.Byzantine) { ValidationGradient = _validationGradient };
        }
    }

    /// <summary>The worker id.</summary>
    public int WorkerId { get; }

    /// <summary>How this run's gradients are encoded on the wire (the config's <c>wire</c>).</summary>
    public WireFormat Wire { get; }

    /// <summary>d.</summary>
    public int Dimension => _oracle.ParameterCount;

    /// <summary>True when this worker is one of the config's Byzantine workers (<see cref="ByzantineSet"/>).</summary>
    public bool IsByzantine { get; }

    /// <summary>Real seconds this worker waits in round <paramref name="round"/> before answering (+∞: a crash this round).</summary>
    public double Delay(long round)
    {
        double time = _delays.For(_round, round, WorkerId);
        if (IsByzantine && _round.Byzantine!.Timing == ByzantineTiming.Fast)
        {
            // Fast Byzantine workers answer at once: no delay model and no emulated compute time.
            return 0;
        }

        return _realTime.ComputeMilliseconds / 1000.0 + (double.IsPositiveInfinity(time) ? time : time * _realTime.DelayScale);
    }

    /// <summary>Writes this worker's message for round <paramref name="round"/> at <paramref name="parameters"/> into <paramref name="gradient"/>.</summary>
    public void Compute(long round, ReadOnlySpan<float> parameters, Span<float> gradient)
    {
        if (_validation is not null)
        {
            _validation.ComputeGradient(parameters, RandomStreams.Create(_config.Seed, round, StreamPurpose.Validation), _validationGradient);
        }

        _oracle.SetParameters(parameters);
        if (_crafted is null)
        {
            _round.ComputeGradient(WorkerId, round, gradient);
            return;
        }

        for (var w = 0; w < _honest!.Count; w++)
        {
            _round.ComputeGradient(w, round, _honest.Row(w), honest: true);
        }

        _round.Craft(_honest, round, _serverContext, _crafted);
        _crafted.Row(_round.Byzantine!.Set.SlotOf(WorkerId)).CopyTo(gradient);
    }

    /// <summary>
    /// Takes its response times from <paramref name="owner"/>'s draws from now on: one draw of the N times per round for
    /// all the workers of a process (<see cref="ClusterWorker.RunGroupAsync"/>).
    /// </summary>
    internal void ShareDelayDraws(GradientSource owner) => _delays = owner._delays;

    /// <summary>The workload this source computes on (its own, or the one it shares).</summary>
    internal Workload Workload => _workload;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsWorkload)
        {
            _workload.Dispose();
        }
    }

    // The id, checked; called in the constructors' initializers, whose arguments C# evaluates left to right, so that a
    // bad id is refused before any data is loaded.
    private static int CheckId(ExperimentConfig config, int workerId) =>
        workerId >= 0 && workerId < config.Workers
            ? workerId
            : throw new ArgumentOutOfRangeException(nameof(workerId), workerId, $"worker id must be in 0..{config.Workers - 1} for this config (workers = {config.Workers}).");
}

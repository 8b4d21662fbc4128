using Dstar.Cluster.Configuration;
using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Specs;
using Dstar.Core.Stragglers;
using Dstar.Engine.Configuration;
using Dstar.Engine.Randomness;
using Dstar.Engine.Server;
using Dstar.Engine.Simulation;
using Dstar.Learning;

namespace Dstar.Cluster.Worker;

/// <summary>
/// What worker w sends in round t, computed exactly as the Engine's <c>SimulatedTransport</c> does, so that a cluster
/// and a simulation of the same config produce the same gradients:
/// <list type="bullet">
/// <item>honest: the oracle's gradient at x_t on b samples drawn with replacement from w's shard with the
/// (seed, t, minibatch, w) stream; label-flip Byzantine workers do the same with flipped labels;</item>
/// <item>crafting Byzantine workers are omniscient, as in simulation: the worker recomputes the honest gradients of the
/// round (it has the same data and streams) and the server's g₀ (same validation split and stream), lets the attack
/// craft the f rows from the (seed, t, attack) stream, then sends its own row. Unlike the simulator, which shows the attack the honest workers among the first k to
/// arrive, a real attacker cannot know the arrival order, so it sees every honest worker's gradient;</item>
/// <item>the response time: the delay model's draw for w from the round's (seed, t, delays) stream, where workers draw
/// in id order as in the simulator (0 for fast Byzantine workers), scaled to real time by
/// <see cref="RealTimeOptions"/>.</item>
/// </list>
/// </summary>
public sealed class GradientSource : IDisposable
{
    private readonly ExperimentConfig _config;
    private readonly RealTimeOptions _realTime;
    private readonly Workload _workload;
    private readonly int[] _minibatch;
    private readonly IDelayModel _delay;
    private readonly IAttack? _attack;
    private readonly bool _flipLabels;
    private readonly bool _fast;
    private readonly AggregationPipeline? _pipeline;
    private readonly GradientBatch? _honest;
    private readonly GradientBatch? _crafted;
    private readonly ValidationSet? _validation;
    private readonly float[]? _validationGradient;
    private readonly AggregationContext? _serverContext;
    private readonly Dstar.Engine.Workers.WorkerMomentum? _momentum;

    /// <summary>Builds worker <paramref name="workerId"/>'s view of the run (loads the data and the model).</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is not a worker of this config.</exception>
    public GradientSource(ExperimentConfig config, int workerId, RealTimeOptions realTime)
    {
        if (workerId < 0 || workerId >= config.Workers)
        {
            throw new ArgumentOutOfRangeException(nameof(workerId), workerId, $"worker id must be in 0..{config.Workers - 1} for this config (workers = {config.Workers}).");
        }

        _config = config;
        _realTime = realTime;
        WorkerId = workerId;
        _workload = WorkloadFactory.Create(config);
        _minibatch = new int[config.BatchSize];
        _momentum = config.WorkerMomentum > 0 ? new Dstar.Engine.Workers.WorkerMomentum(config.Workers, config.WorkerMomentum) : null;
        _delay = Registry.Delays.Create(config.Delay, DiskSpecFiles.Instance);
        IsByzantine = workerId >= config.Workers - config.Byzantine;
        if (IsByzantine && config.Attack is { } attack)
        {
            _fast = config.AttackTiming == "fast";
            if (Spec.Parse(attack).Name == ConfigValidator.LabelFlip)
            {
                _flipLabels = true;
            }
            else
            {
                _attack = Registry.Attacks.Create(attack);
                _pipeline = Registry.Pipeline(config.Aggregator, config.Pre);
                _honest = new GradientBatch(config.Workers - config.Byzantine, Dimension);
                _crafted = new GradientBatch(config.Byzantine, Dimension);
                if (config.Data.ValidationSize > 0)
                {
                    // The threat model lets an omniscient attacker know the server's g₀ (DSTAR.md); it recomputes it
                    // exactly, from the same validation split and the same (seed, t, validation) stream.
                    _validation = new ValidationSet(_workload.Oracle, _workload.Validation, config.EffectiveValidationBatchSize);
                    _validationGradient = new float[Dimension];
                }

                _serverContext = new AggregationContext(config.Byzantine) { ValidationGradient = _validationGradient };
            }
        }
    }

    /// <summary>The worker id.</summary>
    public int WorkerId { get; }

    /// <summary>d.</summary>
    public int Dimension => _workload.Oracle.ParameterCount;

    /// <summary>True when this worker is one of the config's Byzantine workers (the last f ids).</summary>
    public bool IsByzantine { get; }

    /// <summary>Real seconds this worker waits in round <paramref name="round"/> before answering (+∞: a crash this round).</summary>
    public double Delay(long round)
    {
        var random = RandomStreams.Create(_config.Seed, round, StreamPurpose.Delays);
        var roundIndex = (int)Math.Min(round, int.MaxValue);
        double time = 0;
        for (var w = 0; w <= WorkerId; w++)
        {
            time = _delay.Sample(w, roundIndex, random);
        }

        if (_fast)
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

        _workload.Oracle.SetParameters(parameters);
        if (_attack is null)
        {
            Honest(WorkerId, round, gradient, _flipLabels);
            return;
        }

        for (var w = 0; w < _honest!.Count; w++)
        {
            Honest(w, round, _honest.Row(w), flipLabels: false);
        }

        var context = new AttackContext(_config.K, _config.Byzantine, RandomStreams.Create(_config.Seed, round, StreamPurpose.Attack))
        {
            Pipeline = _pipeline,
            AggregationContext = _serverContext,
        };
        _attack.Craft(_honest, context, _crafted!);
        _crafted!.Row(WorkerId - (_config.Workers - _config.Byzantine)).CopyTo(gradient);
    }

    /// <inheritdoc />
    public void Dispose() => _workload.Dispose();

    private void Honest(int worker, long round, Span<float> gradient, bool flipLabels)
    {
        var shard = _workload.Shards[worker];
        var random = RandomStreams.Create(_config.Seed, round, StreamPurpose.Minibatch, worker);
        for (var i = 0; i < _minibatch.Length; i++)
        {
            _minibatch[i] = shard[random.Next(shard.Length)];
        }

        _workload.Oracle.ComputeGradient(_minibatch, gradient, flipLabels);

        // Worker momentum: this worker's own momentum, or, for a crafting Byzantine worker, the honest workers' as it
        // recomputes them every round (as the simulator's honest workers compute every round).
        _momentum?.Apply(worker, gradient);
    }
}

using Dstar.Cluster.Configuration;
using Dstar.Cluster.Workload;
using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Specs;
using Dstar.Core.Stragglers;
using Dstar.Engine.Randomness;

namespace Dstar.Cluster.Worker;

/// <summary>
/// What one worker sends in round t: an honest worker computes ∇F on its own minibatch; a Byzantine worker with an
/// attack is omniscient, as in the simulator's threat model: it recomputes every honest worker's gradient of the
/// round (same data, same minibatch streams), lets the attack craft the f Byzantine rows, and sends its own row.
/// The delay model's sample for (worker, round) is the time the worker waits before answering.
/// </summary>
public sealed class GradientSource : IDisposable
{
    private readonly ClusterConfig _config;
    private readonly SyntheticLogisticRegression _oracle;
    private readonly WorkerShard[] _shards;
    private readonly int[] _batch;
    private readonly IAttack? _attack;
    private readonly IDelayModel? _delay;
    private readonly GradientBatch? _honest;
    private readonly GradientBatch? _byzantine;

    /// <summary>Builds worker <paramref name="workerId"/>'s view of the run.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is not a worker of this config.</exception>
    public GradientSource(ClusterConfig config, int workerId)
    {
        if (workerId < 0 || workerId >= config.Workers)
        {
            throw new ArgumentOutOfRangeException(nameof(workerId), workerId, $"worker id must be in 0..{config.Workers - 1} for this config.");
        }

        _config = config;
        WorkerId = workerId;
        _oracle = ClusterWorkload.CreateOracle(config);
        _batch = new int[config.Batch];
        _delay = config.Delay.Length > 0 ? Registry.Delays.Create(config.Delay) : null;
        IsByzantine = config.IsByzantine(workerId);
        var honestCount = config.Workers - config.Byzantine;
        if (IsByzantine && config.Attack.Length > 0)
        {
            _attack = Registry.Attacks.Create(config.Attack);
            _shards = Enumerable.Range(0, honestCount).Select(i => ClusterWorkload.Shard(config, i)).ToArray();
            _honest = new GradientBatch(honestCount, Dimension);
            _byzantine = new GradientBatch(config.Byzantine, Dimension);
        }
        else
        {
            _shards = [ClusterWorkload.Shard(config, workerId)];
        }
    }

    /// <summary>The worker id.</summary>
    public int WorkerId { get; }

    /// <summary>d.</summary>
    public int Dimension => _oracle.ParameterCount;

    /// <summary>True when this worker is one of the config's Byzantine workers.</summary>
    public bool IsByzantine { get; }

    /// <summary>Seconds this worker waits in round <paramref name="round"/>: compute-ms plus the delay model's time (may be +∞).</summary>
    public double Delay(long round) => _config.ComputeMilliseconds / 1000.0 +
        (_delay is null ? 0 : _delay.Sample(WorkerId, (int)round, RandomStreams.Create(_config.Seed, round, StreamPurpose.Delays, WorkerId)) * _config.DelayScale);

    /// <summary>Writes this worker's message for round <paramref name="round"/> at <paramref name="parameters"/> into <paramref name="gradient"/>.</summary>
    public void Compute(long round, ReadOnlySpan<float> parameters, Span<float> gradient)
    {
        _oracle.SetParameters(parameters);
        if (_attack is null)
        {
            _shards[0].Draw(round, _batch);
            _oracle.ComputeGradient(_batch, gradient);
            return;
        }

        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i].Draw(round, _batch);
            _oracle.ComputeGradient(_batch, _honest!.Row(i));
        }

        var context = new AttackContext(_config.K, _config.Byzantine, RandomStreams.Create(_config.Seed, round, StreamPurpose.Attack));
        _attack.Craft(_honest!, context, _byzantine!);
        _byzantine!.Row(WorkerId - (_config.Workers - _config.Byzantine)).CopyTo(gradient);
    }

    /// <inheritdoc />
    public void Dispose() => _oracle.Dispose();
}

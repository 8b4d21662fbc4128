using System.Diagnostics;
using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Specs;
using Dstar.Engine.Configuration;
using Dstar.Engine.Server;
using Dstar.Engine.Simulation;
using Dstar.Engine.Workers;
using Dstar.Learning;

namespace Dstar.Engine.Guarantees;

/// <summary>One rule under one attack with f Byzantine workers at one point, and what was measured there.</summary>
/// <param name="Rule">The aggregator spec (with pre-aggregators, as the pipeline names itself).</param>
/// <param name="Attack">The attack spec, or "none".</param>
/// <param name="Byzantine">f.</param>
/// <param name="K">k.</param>
/// <param name="Timing">"fast" or "honest".</param>
/// <param name="Partition">The data partition (which workers hold which samples).</param>
/// <param name="Point">The point's name.</param>
/// <param name="Report">The estimate, or null when the cell could not run.</param>
/// <param name="Failure">Why the cell could not run (the rule refused n and f, a round failed), else null.</param>
/// <param name="Seconds">Wall seconds of the cell's draws and estimate.</param>
public sealed record ResilienceResult(string Rule, string Attack, int Byzantine, int K, string Timing, string Partition, string Point, ResilienceReport? Report, string? Failure, double Seconds);

/// <summary>
/// Resilience estimates for many configurations that share one workload (data, model, partition, N, seed): the data
/// and model are loaded once, and every honest minibatch gradient of a point is computed once and served to every
/// rule, attack and f evaluated there (<see cref="CachingGradientOracle"/>). The Byzantine workers are the last f ids,
/// as in <see cref="Simulator"/>. Points should be visited one after another: changing the point clears the memory.
/// </summary>
public sealed class ResilienceSession : IDisposable
{
    private readonly Dictionary<int, HonestReference> _honest = new();
    private float[]?[]? _shardGradients;
    private IReadOnlyList<float[]>? _baseline;
    private ResiliencePoint? _point;
    private ResiliencePoint? _initial;
    private int _preparedDraws;

    /// <summary>Loads the workload of <paramref name="config"/>.</summary>
    /// <exception cref="ConfigException">the config is invalid.</exception>
    public ResilienceSession(ExperimentConfig config, ResilienceOptions? options = null)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        var errors = ConfigValidator.Validate(config);
        if (errors.Count > 0)
        {
            throw new ConfigException(errors);
        }

        Options = options ?? new ResilienceOptions();
        Workload = WorkloadFactory.Create(config);
        Oracle = new CachingGradientOracle(Workload.Oracle);
    }

    /// <summary>The config whose workload is shared.</summary>
    public ExperimentConfig Config { get; }

    /// <summary>Interval settings.</summary>
    public ResilienceOptions Options { get; }

    /// <summary>Data, shards and the model's oracle.</summary>
    public Workload Workload { get; }

    /// <summary>The oracle the simulated workers compute through.</summary>
    public CachingGradientOracle Oracle { get; }

    /// <summary>x₀, the model's seeded initial parameters, at round 0.</summary>
    public ResiliencePoint Initial => _initial ??= new("init", Workload.InitialParameters.ToArray(), null, 0);

    /// <summary>"init" or a checkpoint file of a run of this config.</summary>
    /// <exception cref="Checkpoints.CheckpointException">the checkpoint is missing, corrupt or from another run.</exception>
    public ResiliencePoint Load(string at) =>
        at == "init" ? Initial : ResiliencePoint.FromCheckpoint(at, Config.Seed, Workload.Oracle.ParameterCount);

    /// <summary>
    /// Estimates the resilience of <paramref name="cell"/>'s rule under its attack at <paramref name="point"/> from
    /// <paramref name="draws"/> rounds. A cell that cannot run (the rule refuses n and f, a round's aggregate is not
    /// finite) yields a result with <see cref="ResilienceResult.Failure"/> set instead of an exception.
    /// </summary>
    /// <exception cref="ArgumentException">the cell changes the shared workload (data, model, workers, seed), or draws &lt; 2.</exception>
    public async Task<ResilienceResult> EstimateAsync(ExperimentConfig cell, ResiliencePoint point, int draws, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentNullException.ThrowIfNull(point);
        if (draws < 2)
        {
            throw new ArgumentException($"--rounds must be ≥ 2 (draws per point), got {draws}");
        }

        if (cell.Data != Config.Data || cell.Model != Config.Model || cell.Workers != Config.Workers || cell.Seed != Config.Seed)
        {
            throw new ArgumentException("a resilience cell must keep the session's data, model, workers and seed");
        }

        var clock = Stopwatch.StartNew();
        string attack = cell.Byzantine > 0 ? cell.Attack ?? "none" : "none";
        string rule = cell.Pre.Count == 0 ? cell.Aggregator : string.Join(" → ", cell.Pre.Append(cell.Aggregator));
        ResilienceResult Result(ResilienceReport? report, string? failure) =>
            new(rule, attack, cell.Byzantine, cell.K, cell.AttackTiming, cell.Data.Partition, point.Name, report, failure, clock.Elapsed.TotalSeconds);

        try
        {
            await PrepareAsync(point, draws, cancellationToken).ConfigureAwait(false);
            var honest = Honest(cell.Byzantine, point, draws);
            var aggregates = await DrawAsync(cell, point, draws, cancellationToken).ConfigureAwait(false);
            return Result(ResilienceEstimator.Estimate(aggregates, honest, _baseline, Options), null);
        }
        catch (Exception e) when (e is ConfigException or AggregationException or AttackException or InvalidOperationException
            or SpecException or ArgumentException)
        {
            return Result(null, e is ConfigException config ? string.Join("; ", config.Errors) : OneLine(e.Message));
        }
    }

    /// <summary>The R aggregates of <paramref name="cell"/> at <paramref name="point"/> (the workers compute through the shared oracle).</summary>
    public async Task<IReadOnlyList<float[]>> DrawAsync(ExperimentConfig cell, ResiliencePoint point, int draws, CancellationToken cancellationToken = default)
    {
        var errors = ConfigValidator.Validate(cell);
        if (errors.Count > 0)
        {
            throw new ConfigException(errors);
        }

        var pipeline = Registry.Pipeline(cell.Aggregator, cell.Pre);
        var delay = Registry.Delays.Create(cell.Delay, DiskSpecFiles.Instance);
        // The one definition of the Byzantine workers (ids, attack, timing), as in the simulator and the cluster.
        var byzantine = ByzantineSetup.Of(cell);

        var server = ParameterServerFactory.Create(cell, Workload, pipeline);
        var transport = new SimulatedTransport(Oracle, Workload.Shards, cell.BatchSize, delay, cell.K, cell.Seed, byzantine, pipeline)
        {
            AttackAggregationContext = server.Context,
        };
        return await AggregateDraws.DrawAsync(server, transport, point, draws, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The honest reference at the current point with the last <paramref name="byzantine"/> workers left out.</summary>
    public HonestReference Honest(int byzantine, ResiliencePoint point, int draws)
    {
        if (!ReferenceEquals(point, _point) || _shardGradients is null)
        {
            throw new InvalidOperationException("prepare the point first");
        }

        if (!_honest.TryGetValue(byzantine, out var honest))
        {
            Oracle.SetParameters(point.Parameters);
            var workers = Enumerable.Range(0, Config.Workers - byzantine).ToArray();
            honest = HonestReference.Compute(Oracle, Workload.Shards, workers, _shardGradients, Config.BatchSize, Config.Seed, point.FirstRound, draws);
            _honest[byzantine] = honest;
        }

        return honest;
    }

    /// <summary>
    /// Makes <paramref name="point"/> current: every worker's full-shard gradient (for g), and the plain mean's draws
    /// without attack (the variance baseline). Free when the point and draw count are already current.
    /// </summary>
    public async Task PrepareAsync(ResiliencePoint point, int draws, CancellationToken cancellationToken = default)
    {
        if (ReferenceEquals(point, _point) && _preparedDraws == draws && _shardGradients is not null)
        {
            return;
        }

        _point = point;
        _preparedDraws = draws;
        _honest.Clear();
        _baseline = null;
        Oracle.SetParameters(point.Parameters);
        _shardGradients = Workload.Shards.Select(shard => HonestReference.ShardGradient(Oracle, shard)).ToArray();
        var plain = Config with { Aggregator = "mean", Pre = [], Byzantine = 0, Attack = null };
        _baseline = await DrawAsync(plain, point, draws, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Oracle.Dispose();
        Workload.Dispose();
    }

    private static string OneLine(string message) => string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

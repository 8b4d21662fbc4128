using System.Diagnostics;
using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Optimization;
using Dstar.Core.Specs;
using Dstar.Core.Stragglers;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Running;
using Dstar.Engine.Server;
using Dstar.Engine.Transport;
using Dstar.Engine.Workers;
using Dstar.Learning;

namespace Dstar.Engine.Simulation;

/// <summary>Components that replace what the config names (custom delay models, attacks or rules in code and tests).</summary>
public sealed record SimulatorOverrides
{
    /// <summary>Used instead of <c>delay</c>.</summary>
    public IDelayModel? Delay { get; init; }

    /// <summary>Used instead of <c>attack</c> (a crafting attack).</summary>
    public IAttack? Attack { get; init; }

    /// <summary>Used instead of <c>aggregator</c> and <c>pre</c>.</summary>
    public AggregationPipeline? Pipeline { get; init; }
}

/// <summary>How the wall-clock time of the rounds run by <c>Simulator.RunAsync</c> was spent.</summary>
/// <param name="RoundsSeconds">Wall seconds of the round loop (rounds, recording, checkpoints).</param>
/// <param name="OracleSeconds">Inside the oracle for worker gradients (honest and label-flipped).</param>
/// <param name="AttackSeconds">Crafting the Byzantine workers' gradients (the attack's own computation).</param>
/// <param name="ValidationSeconds">Computing g₀.</param>
/// <param name="AggregationSeconds">In pre-aggregators and the rule.</param>
/// <param name="EvaluationSeconds">Test-set evaluations.</param>
public sealed record SimulationTiming(double RoundsSeconds, double OracleSeconds, double AttackSeconds, double ValidationSeconds, double AggregationSeconds, double EvaluationSeconds)
{
    /// <summary>
    /// Seconds spent on anything but the workers' computation (gradients, attacks), g₀, aggregation and evaluation:
    /// the simulator's own cost (scheduling, collection, the optimizer step, recording, checkpoints).
    /// </summary>
    public double OverheadSeconds => RoundsSeconds - OracleSeconds - AttackSeconds - ValidationSeconds - AggregationSeconds - EvaluationSeconds;

    /// <summary><see cref="OverheadSeconds"/> as a fraction of the round time without evaluation.</summary>
    public double OverheadFraction => OverheadSeconds / Math.Max(1e-12, RoundsSeconds - EvaluationSeconds);
}

/// <summary>
/// One simulated experiment: builds the workload, the delay model, the Byzantine workers, the pipeline, the
/// <see cref="SimulatedTransport"/> and the <see cref="ParameterServer"/> from a validated config, and runs the rounds,
/// recording each and checkpointing every <c>checkpoint_every</c> rounds. The last f worker ids are Byzantine.
/// </summary>
public sealed class Simulator : IDisposable
{
    private readonly Workload _workload;
    private readonly SimulatedTransport _transport;
    private readonly ParameterServer _server;
    private readonly int[] _byzantine;
    private readonly GradientThreads? _threads;

    /// <summary>Builds everything for <paramref name="config"/>.</summary>
    /// <param name="config">The experiment.</param>
    /// <param name="name">The run name.</param>
    /// <param name="overrides">Components that replace what the config names.</param>
    /// <param name="cores">The cores this simulator may use, for <c>simulation.parallel: auto</c> (null: the machine's; a sweep gives each cell its share).</param>
    /// <exception cref="ConfigException">the config is invalid (every problem listed).</exception>
    /// <exception cref="ArgumentException">the data or model cannot be set up as asked.</exception>
    public Simulator(ExperimentConfig config, string name = "run", SimulatorOverrides? overrides = null, int? cores = null)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Name = name;
        overrides ??= new SimulatorOverrides();
        var errors = ConfigValidator.Validate(config)
            .Where(e => !(overrides.Delay is not null && e.Key == "delay")
                && !(overrides.Attack is not null && e.Key == "attack")
                && !(overrides.Pipeline is not null && (e.Key == "aggregator" || e.Key.StartsWith("pre[", StringComparison.Ordinal))))
            .ToArray();
        if (errors.Length > 0)
        {
            throw new ConfigException(errors);
        }

        var pipeline = overrides.Pipeline ?? Registry.Pipeline(config.Aggregator, config.Pre);
        var delay = overrides.Delay ?? Registry.Delays.Create(config.Delay, DiskSpecFiles.Instance);
        _byzantine = ByzantineSet.Of(config).Workers.ToArray();
        var byzantine = ByzantineSetup.Of(config, overrides.Attack);
        string attackName = byzantine is null ? "none" : overrides.Attack?.Name ?? config.Attack!;

        _workload = WorkloadFactory.Create(config);
        try
        {
            _transport = new SimulatedTransport(_workload.Oracle, _workload.Shards, config.BatchSize, delay, config.KCapacity, config.Seed, byzantine, pipeline)
            {
                Momentum = config.WorkerMomentum > 0 ? new Workers.WorkerMomentum(config.Workers, config.WorkerMomentum) : null,
                Wire = WireFormats.Parse(config.Wire),
            };
            GradientThreadCount = SimulationParallelism.Resolve(config, cores, _workload.Oracle.ParameterCount);
            GradientThreads? threads = null;
            if (GradientThreadCount > 1)
            {
                // One model replica per extra thread; every gradient lands in the row it would have had on one thread,
                // and the test set's batches are scored on the same threads and summed in order.
                threads = new GradientThreads(_workload.Oracle, _workload.Replicas(GradientThreadCount - 1), config.BatchSize);
                _threads = threads;
                _transport.Threads = threads;
            }

            _server = ParameterServerFactory.Create(config, _workload, pipeline, threads is null ? null : x => threads.Evaluate(x.Span));
        }
        catch
        {
            _threads?.Dispose();
            _workload.Dispose();
            throw;
        }

        // Omniscient attacks (adaptive-dstar) may know the server's g₀ and f, as the threat model of docs/method.md allows.
        _transport.AttackAggregationContext = _server.Context;
        _transport.Collector = _server.Collector;

        Description = $"{_workload.Description}; N = {config.Workers}, k = {(config.AutoK ? "auto" : config.K)}, f = {config.Byzantine} ({config.AttackTiming} {attackName}), "
            + $"rule {pipeline.Name}, delay {delay.Name}{(_transport.Wire == WireFormat.Float32 ? "" : $", {config.Wire} on the wire")}; "
            + $"gradients on {GradientThreadCount} thread{(GradientThreadCount == 1 ? "" : "s")}";
    }

    /// <summary>The config.</summary>
    public ExperimentConfig Config { get; }

    /// <summary>The threads that compute each round's worker gradients (<c>simulation.parallel</c> resolved).</summary>
    public int GradientThreadCount { get; }

    /// <summary>The run name.</summary>
    public string Name { get; }

    /// <summary>One line: data, model, N, k, f, attack, rule, delay.</summary>
    public string Description { get; }

    /// <summary>The parameter server.</summary>
    public ParameterServer Server => _server;

    /// <summary>The simulated workers.</summary>
    public SimulatedTransport Transport => _transport;

    /// <summary>The workload (oracle, shards, validation split, θ* for synthetic data).</summary>
    public Workload Workload => _workload;

    /// <summary>The Byzantine worker ids.</summary>
    public IReadOnlyList<int> ByzantineWorkers => _byzantine;

    /// <summary>Rounds at the start of <c>RunAsync</c> left out of <see cref="Timing"/> (warm-up), when more than twice as many are run; default 10.</summary>
    public int TimingWarmupRounds { get; init; } = 10;

    /// <summary>Where the wall-clock time of the last <c>RunAsync</c>'s rounds went, after the warm-up rounds.</summary>
    public SimulationTiming? Timing { get; private set; }

    /// <summary>
    /// Runs the experiment to <c>rounds</c>. With a <paramref name="directory"/>, writes config.yaml, metrics.jsonl,
    /// metrics.csv, summary.json, the plots and checkpoint.bin there; with <paramref name="resume"/>, continues from that
    /// directory's checkpoint and ends with the same metrics as an uninterrupted run.
    /// </summary>
    /// <param name="directory">The run directory, or null to write nothing.</param>
    /// <param name="sinks">Extra sinks (console progress).</param>
    /// <param name="resume">Continue from the directory's checkpoint.</param>
    /// <param name="stopAfterRound">Stop (as if killed: no final checkpoint, summary or plots) once this many rounds are done.</param>
    /// <param name="plots">Whether to write the PNG plots.</param>
    /// <param name="cancellationToken">Interrupts the run between rounds (the last completed round is checkpointed).</param>
    /// <returns>
    /// The summary, or null when stopped by <paramref name="stopAfterRound"/> or cancelled. A round that cannot
    /// complete (a rule refusing its input, a diverged model whose gradients are all non-finite) ends the run early:
    /// the summary says at which round and why, and its final accuracy is that of the last finite parameters.
    /// </returns>
    /// <exception cref="CheckpointException">resume: the checkpoint is missing, corrupt or belongs to another run.</exception>
    public async Task<RunSummary?> RunAsync(string? directory, IEnumerable<IRunSink>? sinks = null, bool resume = false, long? stopAfterRound = null, bool plots = true, CancellationToken cancellationToken = default)
    {
        if (directory is null && resume)
        {
            throw new CheckpointException("resume needs the run directory that holds the checkpoint");
        }

        var result = await RunAsync(new RunOptions
        {
            Directory = directory,
            Mode = resume ? RunDirectoryMode.Resume : RunDirectoryMode.New,
            Sinks = sinks?.ToArray() ?? [],
            StopAfterRound = stopAfterRound,
            Plots = plots,
        }, cancellationToken).ConfigureAwait(false);
        return result.Summary;
    }

    /// <summary>
    /// Runs the experiment with a <see cref="RunDriver"/> configured by <paramref name="options"/> (its name and
    /// description are the simulator's); records <see cref="Timing"/> through the driver's round hooks.
    /// </summary>
    /// <exception cref="CheckpointException">resume: the checkpoint is missing, corrupt or belongs to another run.</exception>
    public Task<RunResult> RunAsync(RunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var timing = new TimingHooks(this);
        var driver = new RunDriver(Config, _server, _transport, options with
        {
            Name = Name,
            Description = Description,
            BeforeRound = (Action<long>)timing.BeforeRound + options.BeforeRound,
            AfterRound = (Action<Server.RoundEvent>)timing.AfterRound + options.AfterRound,
            CheckpointParts = [.. CheckpointParts.Of(_transport, _server), .. options.CheckpointParts],
        });
        return driver.RunAsync(cancellationToken);
    }

    /// <summary>
    /// Measures where the rounds' wall time goes, leaving out this process's first rounds (JIT compilation,
    /// first-touch allocations), as a benchmark's warm-up would, when there are enough rounds to do so.
    /// </summary>
    private sealed class TimingHooks(Simulator owner)
    {
        private readonly Stopwatch _clock = new();
        private int _warmup = -1;
        private int _roundsRun;
        private double _oracle0, _attack0, _validation0, _aggregation0, _evaluation0;

        public void BeforeRound(long round)
        {
            var server = owner._server;
            var transport = owner._transport;
            if (_warmup < 0)
            {
                _warmup = owner.Config.Rounds - round > 2 * owner.TimingWarmupRounds ? owner.TimingWarmupRounds : 0;
            }

            if (_roundsRun++ == _warmup)
            {
                _clock.Start();
                _oracle0 = transport.OracleSeconds;
                _attack0 = transport.AttackSeconds;
                _validation0 = server.ValidationSeconds;
                _aggregation0 = server.AggregationSeconds;
                _evaluation0 = server.EvaluationSeconds;
            }
        }

        public void AfterRound(Server.RoundEvent round)
        {
            if (!_clock.IsRunning)
            {
                return;
            }

            var server = owner._server;
            var transport = owner._transport;
            owner.Timing = new SimulationTiming(
                _clock.Elapsed.TotalSeconds,
                transport.OracleSeconds - _oracle0,
                transport.AttackSeconds - _attack0,
                server.ValidationSeconds - _validation0,
                server.AggregationSeconds - _aggregation0,
                server.EvaluationSeconds - _evaluation0);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The helper threads first: they hold replicas of the workload's model.
        _threads?.Dispose();
        _workload.Dispose();
    }
}

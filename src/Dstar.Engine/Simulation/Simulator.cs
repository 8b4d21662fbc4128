using System.Diagnostics;
using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Optimization;
using Dstar.Core.Specs;
using Dstar.Core.Stragglers;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Server;
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

/// <summary>How the wall-clock time of the rounds run by <see cref="Simulator.RunAsync"/> was spent.</summary>
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

    /// <summary>Builds everything for <paramref name="config"/>.</summary>
    /// <exception cref="ConfigException">the config is invalid (every problem listed).</exception>
    /// <exception cref="ArgumentException">the data or model cannot be set up as asked.</exception>
    public Simulator(ExperimentConfig config, string name = "run", SimulatorOverrides? overrides = null)
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
        _byzantine = Enumerable.Range(config.Workers - config.Byzantine, config.Byzantine).ToArray();
        ByzantineSetup? byzantine = null;
        string attackName = "none";
        if (config.Byzantine > 0)
        {
            IAttack? attack = overrides.Attack;
            if (attack is null && Spec.Parse(config.Attack!).Name != ConfigValidator.LabelFlip)
            {
                attack = Registry.Attacks.Create(config.Attack!);
            }

            attackName = overrides.Attack?.Name ?? config.Attack!;

            byzantine = new ByzantineSetup(_byzantine, attack, config.AttackTiming == "fast" ? ByzantineTiming.Fast : ByzantineTiming.Honest);
        }

        _workload = WorkloadFactory.Create(config);
        try
        {
            _transport = new SimulatedTransport(_workload.Oracle, _workload.Shards, config.BatchSize, delay, config.K, config.Seed, byzantine, pipeline)
            {
                Momentum = config.WorkerMomentum > 0 ? new Workers.WorkerMomentum(config.Workers, config.WorkerMomentum) : null,
            };
            _server = ParameterServerFactory.Create(config, _workload, pipeline);
        }
        catch
        {
            _workload.Dispose();
            throw;
        }

        // Omniscient attacks (adaptive-dstar) may know the server's g₀ and f, as DSTAR.md's threat model allows.
        _transport.AttackAggregationContext = _server.Context;
        _transport.Collector = _server.Collector;

        Description = $"{_workload.Description}; N = {config.Workers}, k = {config.K}, f = {config.Byzantine} ({config.AttackTiming} {attackName}), "
            + $"rule {pipeline.Name}, delay {delay.Name}";
    }

    /// <summary>The config.</summary>
    public ExperimentConfig Config { get; }

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

    /// <summary>Rounds at the start of <see cref="RunAsync"/> left out of <see cref="Timing"/> (warm-up), when more than twice as many are run; default 10.</summary>
    public int TimingWarmupRounds { get; init; } = 10;

    /// <summary>Where the wall-clock time of the last <see cref="RunAsync"/>'s rounds went, after the warm-up rounds.</summary>
    public SimulationTiming? Timing { get; private set; }

    /// <summary>
    /// Runs the experiment to <c>rounds</c>. With a <paramref name="directory"/>, writes config.yaml, metrics.jsonl,
    /// metrics.csv, summary.json, the plots and checkpoint.bin there; with <paramref name="resume"/>, continues from that
    /// directory's checkpoint and ends with the same metrics as an uninterrupted run.
    /// </summary>
    /// <param name="directory">The run directory, or null to write nothing.</param>
    /// <param name="sinks">Extra sinks (console progress).</param>
    /// <param name="resume">Continue from the directory's checkpoint.</param>
    /// <param name="stopAfterRound">Stop (as if interrupted: no final checkpoint, summary or plots) once this many rounds are done.</param>
    /// <param name="plots">Whether to write the PNG plots.</param>
    /// <param name="cancellationToken">Stops between rounds.</param>
    /// <returns>
    /// The summary, or null when stopped by <paramref name="stopAfterRound"/>. A round that cannot complete (a rule
    /// refusing its input, a diverged model whose gradients are all non-finite) ends the run early: the summary says at
    /// which round and why, and its final accuracy is that of the last finite parameters.
    /// </returns>
    /// <exception cref="CheckpointException">resume: the checkpoint is missing, corrupt or belongs to another run.</exception>
    public async Task<RunSummary?> RunAsync(string? directory, IEnumerable<IRunSink>? sinks = null, bool resume = false, long? stopAfterRound = null, bool plots = true, CancellationToken cancellationToken = default)
    {
        var allSinks = new List<IRunSink>(sinks ?? Array.Empty<IRunSink>());
        IReadOnlyList<RoundRecord> replayed = Array.Empty<RoundRecord>();
        MetricsFiles? metrics = null;
        string? checkpointPath = null;
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
            checkpointPath = Path.Combine(directory, CheckpointFile.FileName);
            if (resume)
            {
                replayed = RunCheckpoints.Resume(checkpointPath, directory, _server, Config.Seed,
                    "was checkpoint_every 0, or did the run stop before its first checkpoint?");
            }

            File.WriteAllText(Path.Combine(directory, "config.yaml"), ConfigLoader.ToYaml(Config));
            metrics = new MetricsFiles(directory);
            allSinks.Add(metrics);
            allSinks.Add(new SummaryFile(directory));
            if (plots)
            {
                allSinks.Add(new PlotSink(directory));
            }
        }
        else if (resume)
        {
            throw new CheckpointException("resume needs the run directory that holds the checkpoint");
        }

        try
        {
            var recorder = new RunRecorder(new RunInfo(Name, directory, Config.Workers, Config.Rounds, _byzantine, Description), allSinks);
            recorder.Start(_server.Version, replayed);
            var clock = Stopwatch.StartNew();
            var timingClock = new Stopwatch();
            double oracle0 = 0, attack0 = 0, validation0 = 0, aggregation0 = 0, evaluation0 = 0;
            int roundsRun = 0;

            // The timing leaves out this process's first rounds (JIT compilation, first-touch allocations), as a
            // benchmark's warm-up would, when there are enough rounds to do so.
            int warmup = Config.Rounds - _server.Version > 2 * TimingWarmupRounds ? TimingWarmupRounds : 0;
            while (_server.Version < Config.Rounds)
            {
                if (roundsRun++ == warmup)
                {
                    timingClock.Start();
                    oracle0 = _transport.OracleSeconds;
                    attack0 = _transport.AttackSeconds;
                    validation0 = _server.ValidationSeconds;
                    aggregation0 = _server.AggregationSeconds;
                    evaluation0 = _server.EvaluationSeconds;
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (stopAfterRound is { } stop && _server.Version >= stop)
                {
                    return null;
                }

                long t = _server.Version;
                bool evaluate = (t + 1) % Config.EvalEvery == 0 || t + 1 == Config.Rounds;
                Server.RoundEvent e;
                try
                {
                    e = await _server.RunRoundAsync(_transport, evaluate, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception failure) when (failure is AggregationException or InvalidOperationException)
                {
                    // The run cannot go on (typically a model driven to overflow by an attack the rule let through).
                    // The server kept its last finite state: report that, honestly, as the run's end.
                    recorder.Stop(t, failure.Message, _server.Evaluate());
                    break;
                }

                var record = recorder.Record(e, clock.Elapsed.TotalSeconds);
                if (checkpointPath is not null && Config.CheckpointEvery > 0 && (t + 1) % Config.CheckpointEvery == 0)
                {
                    metrics!.Flush();
                    RunCheckpoints.Save(checkpointPath, _server, Config.Seed, record.VirtualTime);
                }

                Timing = !timingClock.IsRunning ? Timing : new SimulationTiming(
                    timingClock.Elapsed.TotalSeconds,
                    _transport.OracleSeconds - oracle0,
                    _transport.AttackSeconds - attack0,
                    _server.ValidationSeconds - validation0,
                    _server.AggregationSeconds - aggregation0,
                    _server.EvaluationSeconds - evaluation0);
            }

            if (checkpointPath is not null && Config.CheckpointEvery > 0)
            {
                metrics!.Flush();
                RunCheckpoints.Save(checkpointPath, _server, Config.Seed, recorder.VirtualTime);
            }

            return recorder.Finish();
        }
        finally
        {
            metrics?.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _workload.Dispose();
}

using System.Diagnostics;
using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Server;
using Dstar.Engine.Transport;
using Dstar.Engine.Workers;

namespace Dstar.Engine.Running;

/// <summary>
/// One run's life over any <see cref="ITransport"/>: the run directory (config.yaml, metrics files, summary.json,
/// plots, checkpoint.bin), the sinks, the evaluation schedule, why the run stops, flushing and checkpoints. The
/// simulator and <c>dstar serve</c> are thin hosts of it: they build the <see cref="ParameterServer"/> and the
/// transport, and pass what else they need through <see cref="RunOptions"/>.
/// </summary>
/// <remarks>
/// <para>Evaluation: after round t when (t + 1) is a multiple of <c>eval_every</c>, and after the last round.</para>
/// <para>Checkpoints (one policy for every host): with a run or checkpoint directory, every <c>checkpoint_every</c>
/// rounds (0: no periodic ones), after the last round, and when the run is interrupted; the metrics rows are flushed
/// first, so a resume finds every row its checkpoint covers. No checkpoint is written when this process completed no
/// round and one is already on disk, so resuming a run with nothing left to do keeps checkpoint.bin.previous.</para>
/// <para>Stops: a round that cannot complete (<see cref="AggregationException"/>, an <see cref="AttackException"/> of
/// an attack that cannot craft from the round's honest gradients, or an
/// <see cref="InvalidOperationException"/> such as a collector that can no longer close its round) ends the run early
/// with a summary that says at which round and why, evaluated at the last finite parameters. Cancellation interrupts
/// it: the last completed round is checkpointed and no summary is written. Any other exception propagates.</para>
/// </remarks>
public sealed class RunDriver
{
    /// <summary>The metrics rows a resume replays, once <see cref="Open"/> has run (none for a new run); null before.</summary>
    private IReadOnlyList<RoundRecord>? _replayed;

    /// <summary>Creates the driver of one run; nothing happens until <see cref="RunAsync"/>.</summary>
    /// <param name="config">The run's validated config (rounds, eval_every, checkpoint_every, seed, the Byzantine set).</param>
    /// <param name="server">The parameter server, at version 0 (a resume restores it from the checkpoint).</param>
    /// <param name="transport">Where the workers are.</param>
    /// <param name="options">Directory, sinks and hooks.</param>
    public RunDriver(ExperimentConfig config, ParameterServer server, ITransport transport, RunOptions options)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Server = server ?? throw new ArgumentNullException(nameof(server));
        Transport = transport ?? throw new ArgumentNullException(nameof(transport));
        Options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <summary>The run's config.</summary>
    public ExperimentConfig Config { get; }

    /// <summary>The parameter server the rounds run on.</summary>
    public ParameterServer Server { get; }

    /// <summary>The transport.</summary>
    public ITransport Transport { get; }

    /// <summary>The options.</summary>
    public RunOptions Options { get; }

    /// <summary>What a checkpoint carries besides the server's vectors: the server's parts, then the host's.</summary>
    private IReadOnlyList<ICheckpointPart> Parts => [.. CheckpointParts.Of(Server), .. Options.CheckpointParts];

    /// <summary>
    /// Gets the run ready without running a round or writing a run file: a resume reads and checks everything it needs
    /// (the saved config, the checkpoint, the metrics rows it covers) and restores the server from it; a new run
    /// claims its directory (moving an overwritten one aside) and refuses a checkpoint it would overwrite. <see cref="RunAsync"/> does this itself when it
    /// was not done; a host calls it first to refuse a bad run before it starts anything else (<c>dstar serve</c>,
    /// before it listens). A second call does nothing.
    /// </summary>
    /// <exception cref="CheckpointException">resume: the checkpoint is missing, corrupt or belongs to another run.</exception>
    /// <exception cref="IOException">a new run: the directory holds a run, or the checkpoint already exists.</exception>
    public void Open()
    {
        if (_replayed is not null)
        {
            return;
        }

        var directory = Options.Directory;
        var checkpointPath = Options.CheckpointPath;
        IReadOnlyList<RoundRecord> replayed = [];
        if (Options.Mode == RunDirectoryMode.Resume)
        {
            if (checkpointPath is null)
            {
                throw new CheckpointException("resume needs the run directory that holds the checkpoint");
            }

            // Everything is checked before anything is written.
            if (directory is not null && SavedConfig(directory) is { } saved)
            {
                ResumeRules.Check(saved, Config);
            }

            replayed = RunCheckpoints.Resume(checkpointPath, directory, Server, Config.Seed,
                "no checkpoint was written yet: checkpoints are written every checkpoint_every rounds, after the last round and when a run is interrupted",
                Parts);
            ResumeRules.CheckRounds(Config, Server.Version);
        }
        else if (directory is not null && Options.Mode != RunDirectoryMode.Replace)
        {
            RunDirectory.Claim(directory, Options.Mode);
            if (Options.Mode == RunDirectoryMode.New && checkpointPath is not null && File.Exists(checkpointPath))
            {
                throw new IOException($"{checkpointPath} already exists; pass --resume to continue its run, or move it away");
            }
        }

        _replayed = replayed;
    }

    /// <summary>Runs the rounds from the server's version (or the checkpoint's, on resume) to <c>rounds</c>.</summary>
    /// <param name="cancellationToken">Interrupts the run (see <see cref="RunEnd.Interrupted"/>).</param>
    /// <exception cref="CheckpointException">resume: the checkpoint is missing, corrupt or belongs to another run.</exception>
    public async Task<RunResult> RunAsync(CancellationToken cancellationToken = default)
    {
        Open();
        var replayed = _replayed!;
        var directory = Options.Directory;
        var checkpointPath = Options.CheckpointPath;
        var sinks = new List<IRunSink>();
        MetricsFiles? metrics = null;
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "config.yaml"), ConfigLoader.ToYaml(Config));
            WriteState(RunStateFile.Running, null);
            metrics = new MetricsFiles(directory);
            sinks.Add(metrics);
            sinks.Add(new SummaryFile(directory));
            if (Options.Plots)
            {
                sinks.Add(new PlotSink(directory));
            }
        }

        sinks.AddRange(Options.Sinks);
        long firstRound = Server.Version;
        try
        {
            var byzantine = ByzantineSet.Of(Config);
            var recorder = new RunRecorder(new RunInfo(Options.Name, directory, Config.Workers, Config.Rounds, byzantine.Workers, Options.Description), sinks);
            recorder.Start(Server.Version, replayed);
            var clock = Stopwatch.StartNew();
            try
            {
                // Only when a round remains: a resume of a run already at its last round has nothing to wait for (the
                // cluster would wait for workers that finished with the first server).
                if (Options.BeforeFirstRoundAsync is { } before && Server.Version < Config.Rounds)
                {
                    await before(cancellationToken).ConfigureAwait(false);
                    clock.Restart();
                }

                while (Server.Version < Config.Rounds)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (Options.StopAfterRound is { } stop && Server.Version >= stop)
                    {
                        // As if killed: state.json still says running.
                        return new RunResult(RunEnd.Halted, Server.Version, null);
                    }

                    long t = Server.Version;
                    Options.BeforeRound?.Invoke(t);
                    bool evaluate = (t + 1) % Config.EvalEvery == 0 || t + 1 == Config.Rounds;
                    RoundEvent round;
                    try
                    {
                        round = await Server.RunRoundAsync(Transport, evaluate, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception failure) when (failure is AggregationException or AttackException or InvalidOperationException)
                    {
                        // The run cannot go on (typically a model an attack drove to overflow, whose honest gradients
                        // an omniscient attack can no longer work with); the server kept its last finite state, which
                        // the summary reports as the run's end.
                        recorder.Stop(t, failure.Message, Server.Evaluate());
                        break;
                    }

                    recorder.Record(round, clock.Elapsed.TotalSeconds);
                    if (Config.CheckpointEvery > 0 && Server.Version % Config.CheckpointEvery == 0)
                    {
                        Checkpoint(checkpointPath, metrics, recorder);
                    }

                    Options.AfterRound?.Invoke(round);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The interrupted round never stepped: the state is the end of the last completed round.
                if (Server.Version > firstRound || (checkpointPath is not null && !File.Exists(checkpointPath)))
                {
                    Checkpoint(checkpointPath, metrics, recorder);
                }

                WriteState(RunStateFile.Interrupted, null);
                return new RunResult(RunEnd.Interrupted, Server.Version, null);
            }

            if (Server.Version > firstRound || (checkpointPath is not null && !File.Exists(checkpointPath)))
            {
                Checkpoint(checkpointPath, metrics, recorder);
            }

            var summary = recorder.Finish();
            WriteState(RunStateFile.Finished, summary.StopReason);
            return new RunResult(RunEnd.Finished, Server.Version, summary);
        }
        catch (Exception failure) when (failure is not OperationCanceledException)
        {
            WriteState(RunStateFile.Failed, failure.Message);
            throw;
        }
        finally
        {
            metrics?.Dispose();
        }
    }

    /// <summary>The config a resume must agree with: state.json's, else config.yaml's; null when neither is readable.</summary>
    /// <exception cref="CheckpointException">state.json exists but cannot be read: the run's config cannot be checked.</exception>
    private static IReadOnlyDictionary<string, string>? SavedConfig(string directory)
    {
        if (RunStateFile.TryRead(directory) is { } state)
        {
            return state.Config;
        }

        // A damaged state.json would leave only config.yaml, which is also what the resumed run reads: an edit to it
        // would then go unnoticed. Say so rather than resume a run with another config.
        var statePath = Path.Combine(directory, RunStateFile.FileName);
        if (File.Exists(statePath))
        {
            throw new CheckpointException(
                $"cannot resume: {statePath} is damaged (not the JSON of a run's state), so the config the run started with cannot be checked; "
                + "nothing was changed on disk. Restore it, or delete it to resume against config.yaml alone");
        }

        try
        {
            return RunStateFile.Describe(ConfigLoader.LoadFile(Path.Combine(directory, "config.yaml")));
        }
        catch (Exception e) when (e is ConfigException or IOException or ArgumentException)
        {
            return null;
        }
    }

    private void WriteState(string state, string? reason)
    {
        if (Options.Directory is { } directory)
        {
            RunStateFile.Write(directory, new RunState(state, Server.Version, reason, RunStateFile.Describe(Config)));
        }
    }

    private void Checkpoint(string? path, MetricsFiles? metrics, RunRecorder recorder)
    {
        if (path is null)
        {
            return;
        }

        // Rows first, so a resume from this checkpoint finds every row it covers.
        metrics?.Flush();
        RunCheckpoints.Save(path, Server, Config.Seed, recorder.VirtualTime, Parts);
    }
}

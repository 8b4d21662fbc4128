using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Running;
using Dstar.Engine.Simulation;

namespace Dstar.Studies.Sweep;

/// <summary>
/// Runs one cell's run into its directory: the one place the studies layer calls the engine's run loop, so that a
/// change in how a run is driven is a change to this file alone.
/// </summary>
public static class CellRunner
{
    /// <summary>
    /// Runs <paramref name="config"/> into <paramref name="directory"/> (config.yaml, metrics.jsonl, metrics.csv,
    /// summary.json and checkpoint.bin; no per-run plots, the study report draws its own). With
    /// <paramref name="resume"/>, continues from the directory's checkpoint.
    /// </summary>
    /// <param name="config">A validated experiment.</param>
    /// <param name="directory">The run directory.</param>
    /// <param name="name">The run name written into its summary.</param>
    /// <param name="resume">Continue from the checkpoint in <paramref name="directory"/>.</param>
    /// <param name="cancellationToken">Stops between rounds.</param>
    /// <param name="cores">The run's share of the cores (<c>simulation.parallel: auto</c>); null for the machine's.</param>
    /// <returns>The run's summary.</returns>
    /// <exception cref="CheckpointException">resume: the checkpoint is missing, corrupt or belongs to another run.</exception>
    /// <exception cref="ConfigException">the config is invalid.</exception>
    public static async Task<RunSummary> RunAsync(ExperimentConfig config, string directory, string name, bool resume, CancellationToken cancellationToken, int? cores = null)
    {
        using var simulator = new Simulator(config, name, cores: cores);
        // The sweep owns its cell directories: a cell that is not resumed starts over in place (Replace), since a
        // killed or failed attempt may have left files there.
        var result = await simulator.RunAsync(new RunOptions
        {
            Directory = directory,
            Mode = resume ? RunDirectoryMode.Resume : RunDirectoryMode.Replace,
            Plots = false,
        }, cancellationToken).ConfigureAwait(false);
        return result.Summary ?? throw new InvalidOperationException("the run stopped before its end");
    }
}

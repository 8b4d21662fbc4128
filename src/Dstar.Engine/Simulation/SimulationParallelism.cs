using Dstar.Engine.Configuration;

namespace Dstar.Engine.Simulation;

/// <summary>
/// How many threads compute a simulated round's worker gradients (<c>simulation.parallel</c>, docs/config.md). The
/// metrics are bit-identical for every count, so the choice is about speed and memory (one model replica per extra
/// thread) only.
/// </summary>
public static class SimulationParallelism
{
    /// <summary>
    /// The thread count for <paramref name="config"/> on <paramref name="cores"/> cores (null: this machine's):
    /// an explicit count P gives min(P, N) (more threads than workers would have nothing to do); <c>auto</c> gives 1 for
    /// a model with running state (BatchNorm) and otherwise min(N, max(1, cores / threads)), so that
    /// <c>threads</c> torch threads per gradient thread fill the cores without oversubscribing them. A sweep gives
    /// each of its P worker processes cores / P (docs/studies.md), which makes <c>auto</c> 1 by default there.
    /// </summary>
    public static int Resolve(ExperimentConfig config, int? cores = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        int workers = Math.Max(1, config.Workers);
        if (config.SimulationParallel is { } explicitCount)
        {
            return Math.Clamp(explicitCount, 1, workers);
        }

        if (ConfigValidator.ModelHasRunningState(config.Model))
        {
            return 1;
        }

        int available = Math.Max(1, cores ?? Environment.ProcessorCount);
        return Math.Clamp(available / Math.Max(1, config.Threads), 1, workers);
    }
}

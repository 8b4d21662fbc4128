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
    /// a model with running state (BatchNorm), 1 for a gradient of fewer than <see cref="MinimumParallelWork"/>
    /// parameter·samples when <paramref name="parameters"/> (d) is known, and otherwise min(N, max(1, cores / threads)),
    /// so that <c>threads</c> torch threads per gradient thread fill the cores without oversubscribing them. A sweep
    /// gives each of its P worker processes cores / P (docs/studies.md), which makes <c>auto</c> 1 by default there.
    /// </summary>
    public static int Resolve(ExperimentConfig config, int? cores = null, long? parameters = null)
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

        if (parameters is { } d && d * Math.Max(1, config.BatchSize) < MinimumParallelWork)
        {
            return 1;
        }

        int available = Math.Max(1, cores ?? Environment.ProcessorCount);
        return Math.Clamp(available / Math.Max(1, config.Threads), 1, workers);
    }

    /// <summary>
    /// Below this many parameter·samples in a gradient (d × the minibatch size), <c>auto</c> computes on one thread:
    /// handing so small a gradient to another thread and waiting for it costs about as much as computing it. Measured
    /// on a 2-core VM (docs/benchmarks.md, "Where scaling stops"): logreg with d = 101 and b = 32 (3,232) ran its
    /// rounds 6–27 % slower on 2 threads than on 1; the demo's mlp, d = 50,890 and b = 32 (1.6 million), 14–31 %
    /// faster. A convolution costs far more than its parameter count says, so this errs towards threads only for
    /// models that are cheap anyway.
    /// </summary>
    public const long MinimumParallelWork = 100_000;
}

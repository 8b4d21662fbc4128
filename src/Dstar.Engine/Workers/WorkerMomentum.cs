using System.Numerics.Tensors;

namespace Dstar.Engine.Workers;

/// <summary>
/// Worker momentum (Karimireddy, He, Jaggi, "Learning from History for Byzantine Robust Optimization", ICML 2021,
/// Algorithm 2): an honest worker w keeps mᵥ ← (1 − β)·gᵥ + β·mᵥ (m = g in its first round) and sends m instead of its
/// minibatch gradient g. Averaging over rounds shrinks the honest spread the robust rule sees by about √((1−β)/(1+β)).
/// </summary>
/// <remarks>
/// One instance holds the state of every worker the caller computes for (O(N·d) floats, allocated on a worker's first
/// gradient). The simulator and the cluster worker both call <see cref="Apply"/> once per gradient a worker computes,
/// every round it computes one, so a simulation and a cluster of the same config send the same vectors. The state is not
/// part of a checkpoint: a resumed run starts the momenta afresh. Not thread-safe.
/// </remarks>
public sealed class WorkerMomentum
{
    private readonly float[]?[] _momenta;

    /// <summary>Creates the state for workers 0..workerCount−1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">β outside [0, 1) or no workers.</exception>
    public WorkerMomentum(int workerCount, double beta)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workerCount);
        if (!(beta >= 0 && beta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta), $"worker_momentum must be in [0, 1), got {beta}");
        }

        Beta = beta;
        _momenta = new float[]?[workerCount];
    }

    /// <summary>β.</summary>
    public double Beta { get; }

    /// <summary>Folds worker <paramref name="worker"/>'s new gradient into its momentum and overwrites the gradient with it.</summary>
    public void Apply(int worker, Span<float> gradient)
    {
        var momentum = _momenta[worker];
        if (momentum is null || momentum.Length != gradient.Length)
        {
            _momenta[worker] = gradient.ToArray();
            return;
        }

        // m ← β·m + (1 − β)·g, then g ← m.
        TensorPrimitives.Multiply(momentum, (float)Beta, momentum);
        TensorPrimitives.MultiplyAdd(gradient, (float)(1 - Beta), momentum, momentum);
        momentum.CopyTo(gradient);
    }
}

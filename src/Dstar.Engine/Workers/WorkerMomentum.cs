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
/// every round it computes one, so a simulation and a cluster of the same config send the same vectors. In the simulator
/// the state is part of a checkpoint (<see cref="Capture"/>, <see cref="Restore"/>); a round's updates are journalled
/// from <see cref="BeginRound"/> on, so a run interrupted in the middle of a round saves the momenta as they were
/// before it. Not thread-safe.
/// </remarks>
public sealed class WorkerMomentum
{
    private readonly float[]?[] _momenta;

    // The journal of the current round: for each worker updated since BeginRound, its momentum before that update.
    private readonly bool[] _updated;
    private readonly float[]?[] _before;
    private readonly bool[] _hadMomentum;

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
        _updated = new bool[workerCount];
        _before = new float[]?[workerCount];
        _hadMomentum = new bool[workerCount];
    }

    /// <summary>N.</summary>
    public int WorkerCount => _momenta.Length;

    /// <summary>β.</summary>
    public double Beta { get; }

    /// <summary>Folds worker <paramref name="worker"/>'s new gradient into its momentum and overwrites the gradient with it.</summary>
    public void Apply(int worker, Span<float> gradient)
    {
        var momentum = _momenta[worker];
        Journal(worker, momentum);
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

    /// <summary>Starts a round's journal: <see cref="Capture"/> can then leave out the updates made from here on.</summary>
    public void BeginRound() => Array.Clear(_updated);

    /// <summary>
    /// A copy of every worker's momentum (null: none yet); with <paramref name="withoutCurrentRound"/>, as it was at the
    /// last <see cref="BeginRound"/>.
    /// </summary>
    public float[]?[] Capture(bool withoutCurrentRound = false)
    {
        var copy = new float[]?[_momenta.Length];
        for (int w = 0; w < copy.Length; w++)
        {
            var source = withoutCurrentRound && _updated[w] ? (_hadMomentum[w] ? _before[w] : null) : _momenta[w];
            copy[w] = source?.ToArray();
        }

        return copy;
    }

    /// <summary>Replaces every worker's momentum with <paramref name="momenta"/> (a <see cref="Capture"/>) and clears the journal.</summary>
    /// <exception cref="ArgumentException">not N entries, or entries of different lengths; nothing is changed.</exception>
    public void Restore(IReadOnlyList<float[]?> momenta)
    {
        ArgumentNullException.ThrowIfNull(momenta);
        int? length = momenta.FirstOrDefault(m => m is not null)?.Length;
        if (momenta.Count != _momenta.Length || momenta.Any(m => m is not null && m.Length != length))
        {
            throw new ArgumentException($"worker momentum state: {momenta.Count} workers of lengths {string.Join(", ", momenta.Select(m => m?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-").Distinct())}, expected N = {_momenta.Length} of one length", nameof(momenta));
        }

        for (int w = 0; w < _momenta.Length; w++)
        {
            _momenta[w] = momenta[w]?.ToArray();
        }

        BeginRound();
    }

    /// <summary>Keeps worker <paramref name="worker"/>'s momentum as it was before its first update this round.</summary>
    private void Journal(int worker, float[]? momentum)
    {
        if (_updated[worker])
        {
            return;
        }

        _updated[worker] = true;
        _hadMomentum[worker] = momentum is not null;
        if (momentum is not null)
        {
            if (_before[worker] is not { } saved || saved.Length != momentum.Length)
            {
                _before[worker] = saved = new float[momentum.Length];
            }

            momentum.CopyTo(saved, 0);
        }
    }
}

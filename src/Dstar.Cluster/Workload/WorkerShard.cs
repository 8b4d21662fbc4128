using Dstar.Engine.Randomness;

namespace Dstar.Cluster.Workload;

/// <summary>
/// Which samples worker i holds and which minibatch it draws in round t. Shard: samples i, i + N, i + 2N, … (IID
/// round-robin). Minibatch: b indices drawn with replacement from the shard by the Engine's (seed, round, minibatch,
/// worker) random stream, so any process (the worker itself, or an omniscient Byzantine one replaying it) draws the
/// same batch for the same worker and round.
/// </summary>
public sealed class WorkerShard
{
    private readonly int[] _samples;
    private readonly int _seed;

    /// <summary>The shard of <paramref name="workerId"/> among <paramref name="workerCount"/> workers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside 0..N−1 or the shard would be empty.</exception>
    public WorkerShard(int workerId, int workerCount, int sampleCount, int seed)
    {
        if (workerId < 0 || workerId >= workerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(workerId), workerId, $"worker id must be in 0..{workerCount - 1}.");
        }

        if (sampleCount <= workerId)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleCount), sampleCount, $"worker {workerId} would hold no samples.");
        }

        WorkerId = workerId;
        _seed = seed;
        _samples = Enumerable.Range(0, (sampleCount - workerId + workerCount - 1) / workerCount)
            .Select(j => workerId + j * workerCount).ToArray();
    }

    /// <summary>The worker this shard belongs to.</summary>
    public int WorkerId { get; }

    /// <summary>The number of samples held.</summary>
    public int Count => _samples.Length;

    /// <summary>Fills <paramref name="batch"/> with the indices of round <paramref name="round"/>'s minibatch.</summary>
    public void Draw(long round, Span<int> batch)
    {
        var random = RandomStreams.Create(_seed, round, StreamPurpose.Minibatch, WorkerId);
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i] = _samples[random.Next(_samples.Length)];
        }
    }
}

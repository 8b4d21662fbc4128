using System.Runtime.ExceptionServices;
using Dstar.Engine.Workers;
using Dstar.Learning;

namespace Dstar.Engine.Simulation;

/// <summary>
/// Computes a list of worker gradients, or the test-set evaluation, on P threads (<c>simulation.parallel</c>): the calling thread with the shared
/// oracle, and P − 1 thread-pool threads each with its own replica of the model (<see cref="Workload.Replicas"/>) and
/// its own minibatch scratch. Each gradient is written to the row its caller chose, so the rows and their order do
/// not depend on which thread computed what: a gradient is a function of (worker, round, x_t) alone, and the results
/// are bit-identical for every P.
/// </summary>
/// <remarks>
/// Work is handed out one gradient at a time from a shared counter, so a thread that starts late (a busy thread pool)
/// only takes fewer gradients; the calling thread never waits for a helper that has nothing to do. Worker momentum is
/// not applied here: the caller applies it afterwards, on one thread. Memory: one model replica and b ints per thread.
/// </remarks>
public sealed class GradientThreads
{
    private readonly IGradientOracle[] _oracles;
    private readonly int[][] _minibatches;

    /// <summary>Threads over <paramref name="shared"/> (used by the calling thread) and one per replica.</summary>
    /// <param name="shared">The oracle the rest of the simulator uses.</param>
    /// <param name="replicas">P − 1 replicas of it (same architecture and data).</param>
    /// <param name="batchSize">b, the workers' minibatch size.</param>
    /// <exception cref="ArgumentException">a replica of another dimension, or b &lt; 1.</exception>
    public GradientThreads(IGradientOracle shared, IReadOnlyList<IGradientOracle> replicas, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(shared);
        ArgumentNullException.ThrowIfNull(replicas);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (replicas.Any(r => r is null || r.ParameterCount != shared.ParameterCount || ReferenceEquals(r, shared)))
        {
            throw new ArgumentException($"every replica must be a distinct oracle with d = {shared.ParameterCount}", nameof(replicas));
        }

        _oracles = [shared, .. replicas];
        _minibatches = _oracles.Select(_ => new int[batchSize]).ToArray();
    }

    /// <summary>P, the threads (the calling thread included).</summary>
    public int Count => _oracles.Length;

    /// <summary>
    /// Computes worker <paramref name="workers"/>[i]'s oracle gradient for <paramref name="round"/> at
    /// <paramref name="parameters"/> into <paramref name="rows"/>[i], for i &lt; <paramref name="count"/>, as
    /// <see cref="WorkerRound.ComputeOracleGradient"/> does (no worker momentum). Every oracle it uses is loaded with
    /// <paramref name="parameters"/> first, the shared one included. Returns when every gradient is written; the first
    /// exception of any thread is rethrown (the other threads stop taking gradients).
    /// </summary>
    public void Compute(WorkerRound workerRound, long round, ReadOnlySpan<float> parameters, int[] workers, Memory<float>[] rows, int count)
    {
        ArgumentNullException.ThrowIfNull(workerRound);
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentNullException.ThrowIfNull(rows);
        if (count < 0 || count > workers.Length || count > rows.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"{count} gradients for {workers.Length} workers and {rows.Length} rows");
        }

        int threads = Math.Min(_oracles.Length, count);
        for (int i = 0; i < threads; i++)
        {
            _oracles[i].SetParameters(parameters);
        }

        Run(threads, count, (thread, i) => workerRound.ComputeOracleGradient(workers[i], round, rows[i].Span, _oracles[thread], _minibatches[thread]));
    }

    /// <summary>
    /// The test-set evaluation at <paramref name="parameters"/>: the batches of <see cref="IBatchedEvaluation"/> scored
    /// on the P threads and combined in batch order, which is exactly the shared oracle's own
    /// <see cref="IGradientOracle.Evaluate"/>. An oracle without batches is evaluated on the calling thread.
    /// </summary>
    public Evaluation Evaluate(ReadOnlySpan<float> parameters)
    {
        if (_oracles.Any(o => o is not IBatchedEvaluation) || _oracles[0] is not IBatchedEvaluation batched)
        {
            _oracles[0].SetParameters(parameters);
            return _oracles[0].Evaluate();
        }

        int count = batched.EvaluationBatches;
        int threads = Math.Clamp(count, 1, _oracles.Length);
        for (int i = 0; i < threads; i++)
        {
            _oracles[i].SetParameters(parameters);
        }

        var parts = new EvaluationPart[count];
        Run(threads, count, (thread, i) => parts[i] = ((IBatchedEvaluation)_oracles[thread]).EvaluateBatch(i));
        return batched.Combine(parts);
    }

    /// <summary>Runs <paramref name="body"/>(thread, item) for items 0..count−1 on <paramref name="threads"/> threads (thread 0 is the caller's).</summary>
    private static void Run(int threads, int count, Action<int, int> body)
    {
        int next = -1;
        int stop = 0;
        void Work(int thread)
        {
            int i;
            while (Volatile.Read(ref stop) == 0 && (i = Interlocked.Increment(ref next)) < count)
            {
                try
                {
                    body(thread, i);
                }
                catch
                {
                    Volatile.Write(ref stop, 1);
                    throw;
                }
            }
        }

        var helpers = new Task[Math.Max(0, threads - 1)];
        for (int h = 0; h < helpers.Length; h++)
        {
            int thread = h + 1;
            helpers[h] = Task.Run(() => Work(thread));
        }

        ExceptionDispatchInfo? failure = null;
        try
        {
            Work(0);
        }
        catch (Exception e)
        {
            failure = ExceptionDispatchInfo.Capture(e);
        }

        foreach (var helper in helpers)
        {
            try
            {
                helper.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                failure ??= ExceptionDispatchInfo.Capture(e);
            }
        }

        failure?.Throw();
    }
}

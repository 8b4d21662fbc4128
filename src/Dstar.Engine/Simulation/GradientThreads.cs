using System.Runtime.ExceptionServices;
using Dstar.Engine.Workers;
using Dstar.Learning;

namespace Dstar.Engine.Simulation;

/// <summary>
/// Computes a list of worker gradients, or the test-set evaluation, on P threads (<c>simulation.parallel</c>): the calling thread with the shared
/// oracle, and P − 1 helper threads of its own, each with its own replica of the model (<see cref="Workload.Replicas"/>) and
/// its own minibatch scratch. Each gradient is written to the row its caller chose, so the rows and their order do
/// not depend on which thread computed what: a gradient is a function of (worker, round, x_t) alone, and the results
/// are bit-identical for every P.
/// </summary>
/// <remarks>
/// Work is handed out one gradient at a time from a shared counter, so a thread that starts late (a busy machine)
/// only takes fewer gradients; the calling thread never waits for a helper to be scheduled, only for gradients a
/// helper has taken. Worker momentum is not applied here: the caller applies it afterwards, on one thread.
/// <para>
/// The helpers are P − 1 dedicated background threads, started at the first call that uses them and woken for each
/// call, not thread-pool work items: a round queues no work to the shared pool, so idle pool workers (the view's web
/// server brings some) are not woken each round to spin on the cores the run is using, and the pool's own heuristics
/// (thread injection, hill climbing) have nothing to react to. <see cref="Dispose"/> ends them; calls are made by
/// one thread at a time (the run's), which is checked.
/// </para>
/// Memory: one model replica, b ints and one thread (its stack) per helper.
/// </remarks>
public sealed class GradientThreads : IDisposable
{
    private readonly IGradientOracle[] _oracles;
    private readonly int[][] _minibatches;
    private readonly Helper[] _helpers;
    private readonly object _startGate = new();
    private int _busy;
    private volatile bool _disposed;

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
        _helpers = new Helper[replicas.Count];
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

    /// <summary>
    /// Helper threads started so far (0 until a call needs them, then at most P − 1; never more however many calls):
    /// what a test reads to see that calls reuse them.
    /// </summary>
    public int HelpersStarted
    {
        get
        {
            lock (_startGate)
            {
                return _helpers.Count(h => h is not null);
            }
        }
    }

    /// <summary>Ends the helper threads (each finishes the item it is on, if any, first); later calls throw.</summary>
    public void Dispose()
    {
        Helper[] started;
        lock (_startGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            started = _helpers.Where(h => h is not null).ToArray();
        }

        foreach (var helper in started)
        {
            helper.Stop();
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(thread, item) for items 0..count−1 on up to <paramref name="threads"/> threads:
    /// the calling thread (thread 0) and helpers 1..threads−1, each handed this run and woken. Items are taken from a
    /// shared counter, and the caller waits only for items a helper has taken, never for a helper to be scheduled: on
    /// a busy machine a helper that wakes after every item is taken finds nothing to do and goes back to sleep without
    /// touching anything. After a failure the remaining items are skipped and the first exception is rethrown.
    /// </summary>
    private void Run(int threads, int count, Action<int, int> body)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("GradientThreads is used by one thread at a time (the run's)");
        }

        try
        {
            var run = new SharedRun(count, body);
            for (int thread = 1; thread < threads; thread++)
            {
                HelperFor(thread).Hand(run);
            }

            run.Work(0);
            run.WaitForTakenItems();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Helper <paramref name="thread"/> (1 … P − 1), started on first use.</summary>
    private Helper HelperFor(int thread)
    {
        var helper = Volatile.Read(ref _helpers[thread - 1]);
        if (helper is not null)
        {
            return helper;
        }

        lock (_startGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _helpers[thread - 1] ??= new Helper(thread);
        }
    }

    /// <summary>
    /// One helper thread: sleeps until handed a run, works on it, sleeps again. The run is handed through a one-slot
    /// mailbox, so a helper that wakes late takes the newest run handed to it (one that counts it among its threads,
    /// so its oracle holds that run's parameters) or, when the slot was already emptied, nothing.
    /// </summary>
    private sealed class Helper
    {
        private readonly int _thread;
        private readonly SemaphoreSlim _wake = new(0);
        private readonly Thread _osThread;
        private SharedRun? _handed;
        private volatile bool _stopping;

        public Helper(int thread)
        {
            _thread = thread;
            _osThread = new Thread(Loop) { IsBackground = true, Name = $"dstar gradients {thread}" };
            _osThread.Start();
        }

        public void Hand(SharedRun run)
        {
            Volatile.Write(ref _handed, run);
            _wake.Release();
        }

        public void Stop()
        {
            _stopping = true;
            _wake.Release();
            _osThread.Join();
            _wake.Dispose();
        }

        private void Loop()
        {
            while (true)
            {
                _wake.Wait();
                if (_stopping)
                {
                    return;
                }

                Interlocked.Exchange(ref _handed, null)?.Work(_thread);
            }
        }
    }

    /// <summary>The state of one <see cref="Run"/>: the item counter, the finished count and the first failure.</summary>
    private sealed class SharedRun(int count, Action<int, int> body)
    {
        private readonly ManualResetEventSlim _finished = new(count == 0);
        private int _next = -1;
        private int _done;
        private ExceptionDispatchInfo? _failure;

        public void Work(int thread)
        {
            int i;
            while ((i = Interlocked.Increment(ref _next)) < count)
            {
                if (Volatile.Read(ref _failure) is null)
                {
                    try
                    {
                        body(thread, i);
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
                    }
                }

                if (Interlocked.Increment(ref _done) == count)
                {
                    _finished.Set();
                }
            }
        }

        public void WaitForTakenItems()
        {
            // Not disposed: the helper that set it may still be returning from Set (no kernel handle is made unless a
            // wait blocks long, and the collector reclaims it either way).
            _finished.Wait();
            _failure?.Throw();
        }
    }
}

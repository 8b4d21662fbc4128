using Dstar.Engine.Simulation;
using Dstar.Learning;
using Xunit;

namespace Dstar.Engine.Tests.Simulation;

public class GradientThreadsTests
{
    [Fact]
    public void Evaluation_batches_scored_on_several_threads_are_summed_in_batch_order()
    {
        var oracles = Enumerable.Range(0, 3).Select(_ => new BatchOracle(batches: 7)).ToArray();
        var threads = new GradientThreads(oracles[0], oracles[1..], batchSize: 4);
        var evaluation = threads.Evaluate(new float[] { 2, 0 });

        // The serial sum of the same per-batch scores, in order, on one oracle at the same parameters.
        var serial = new BatchOracle(batches: 7);
        serial.SetParameters(new float[] { 2, 0 });
        Assert.Equal(serial.Evaluate(), evaluation);
        Assert.Equal(7, oracles.Sum(o => o.Scored));
        Assert.All(oracles.Where(o => o.Scored > 0), o => Assert.Equal(2f, o.Parameters[0]));
    }

    [Fact]
    public void A_failure_on_any_thread_is_rethrown_once_every_taken_item_is_done()
    {
        var oracles = Enumerable.Range(0, 2).Select(_ => new BatchOracle(batches: 40, failAt: 23)).ToArray();
        var threads = new GradientThreads(oracles[0], oracles[1..], batchSize: 4);
        var e = Assert.Throws<InvalidOperationException>(() => threads.Evaluate(new float[2]));
        Assert.Equal("batch 23 failed", e.Message);
    }

    [Fact]
    public void A_failure_on_a_helper_thread_is_rethrown_on_the_calling_thread()
    {
        // Only the replica fails, so the exception can only come from a helper thread; the caller waits for it.
        var shared = new BatchOracle(batches: 40);
        var replica = new BatchOracle(batches: 40, failOnThreadsOtherThan: Environment.CurrentManagedThreadId);
        using var threads = new GradientThreads(shared, [replica], batchSize: 4);
        for (int call = 0; call < 20; call++)
        {
            try
            {
                threads.Evaluate(new float[2]);
            }
            catch (InvalidOperationException e)
            {
                Assert.StartsWith("batch", e.Message);
                Assert.True(replica.Scored > 0);
                return;
            }
        }

        Assert.Fail("the helper never took a batch in 20 calls of 40 batches each");
    }

    [Fact]
    public void Repeated_calls_reuse_the_same_helper_threads_and_dispose_ends_them()
    {
        var oracles = Enumerable.Range(0, 3).Select(_ => new BatchOracle(batches: 9)).ToArray();
        var threads = new GradientThreads(oracles[0], oracles[1..], batchSize: 4);
        Assert.Equal(0, threads.HelpersStarted);
        var serial = new BatchOracle(batches: 9);
        var random = new Random(5);
        for (int call = 0; call < 200; call++)
        {
            var x = new float[] { (float)random.NextDouble(), 0 };
            serial.SetParameters(x);
            Assert.Equal(serial.Evaluate(), threads.Evaluate(x));
        }

        // Two helpers for 200 calls, and each replica was only ever used by one thread (its helper), never the caller.
        Assert.Equal(2, threads.HelpersStarted);
        Assert.Equal([Environment.CurrentManagedThreadId], oracles[0].ThreadIds);
        Assert.All(oracles[1..], o => Assert.InRange(o.ThreadIds.Count, 0, 1));
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, oracles[1..].SelectMany(o => o.ThreadIds));
        Assert.True(oracles[1..].Sum(o => o.Scored) > 0, "the helpers never took a batch in 200 calls");
        threads.Dispose();
        Assert.Throws<ObjectDisposedException>(() => threads.Evaluate(new float[2]));
        threads.Dispose();
    }

    [Fact]
    public void Replicas_must_be_distinct_oracles_of_the_same_dimension()
    {
        var shared = new BatchOracle(batches: 1);
        Assert.Throws<ArgumentException>(() => new GradientThreads(shared, [shared], 4));
        Assert.Throws<ArgumentException>(() => new GradientThreads(shared, [new BatchOracle(batches: 1, dimension: 3)], 4));
        Assert.Equal(2, new GradientThreads(shared, [new BatchOracle(batches: 1)], 4).Count);
    }

    /// <summary>An oracle whose test evaluation is <c>batches</c> batches with scores that depend on x and the batch (a float sum that order would change).</summary>
    private sealed class BatchOracle(int batches, int failAt = -1, int dimension = 2, int failOnThreadsOtherThan = -1) : IGradientOracle, IBatchedEvaluation
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> _threadIds = new();
        private int _scored;

        /// <summary>The managed ids of the threads that scored a batch on this oracle.</summary>
        public ICollection<int> ThreadIds => _threadIds.Keys;

        public float[] Parameters { get; } = new float[dimension];

        public int Scored => _scored;

        public int ParameterCount => dimension;

        public int EvaluationBatches => batches;

        public void SetParameters(ReadOnlySpan<float> parameters) => parameters.CopyTo(Parameters);

        public void GetParameters(Span<float> destination) => Parameters.CopyTo(destination);

        public double ComputeGradient(ReadOnlySpan<int> sampleIndices, Span<float> gradient, bool flipLabels = false) => throw new NotSupportedException();

        public double Loss(ReadOnlySpan<int> sampleIndices) => throw new NotSupportedException();

        public Evaluation Evaluate()
        {
            var parts = new EvaluationPart[batches];
            for (int b = 0; b < batches; b++)
            {
                parts[b] = EvaluateBatch(b);
            }

            return Combine(parts);
        }

        public EvaluationPart EvaluateBatch(int batch)
        {
            Interlocked.Increment(ref _scored);
            _threadIds[Environment.CurrentManagedThreadId] = true;
            if (batch == failAt || (failOnThreadsOtherThan >= 0 && Environment.CurrentManagedThreadId != failOnThreadsOtherThan))
            {
                throw new InvalidOperationException($"batch {batch} failed");
            }

            Thread.SpinWait(1000);
            return new EvaluationPart((float)(Parameters[0] / 3.0 + 1.0 / (batch + 7)), batch % 3, 10);
        }

        public Evaluation Combine(ReadOnlySpan<EvaluationPart> parts)
        {
            double loss = 0;
            long correct = 0;
            foreach (var part in parts)
            {
                loss += part.LossSum;
                correct += part.Correct;
            }

            return new Evaluation((double)correct / (10.0 * parts.Length), loss / (10.0 * parts.Length));
        }

        public void Dispose()
        {
        }
    }
}

using Dstar.Cluster.Configuration;
using Dstar.Cluster.Worker;
using Dstar.Engine.Configuration;

namespace Dstar.Cluster.Tests.Worker;

/// <summary>
/// The workers of one process share one draw of the N response times per round (<see cref="DelayDraws"/>): each must
/// still get exactly the time a worker in a process of its own gets, in any order of rounds and from any thread.
/// </summary>
public sealed class DelayDrawsTests
{
    private const int Workers = 6;

    [Theory]
    [InlineData("pareto xm=1 alpha=1.5")]
    [InlineData("bimodal p=0.3 slowdown=20 persistent=false")]
    [InlineData("crash round=10 workers=1,4")]
    public void Shared_draws_give_each_worker_its_own_time_in_any_round_order_and_from_any_thread(string delay)
    {
        var config = ConfigLoader.Load(ClusterFixture.Yaml(Workers, 4, rounds: 50, samples: 600, features: 3, extra: $"delay: {delay}\n"));
        var realTime = new RealTimeOptions { DelayScale = 0.5, ComputeMilliseconds = 2 };

        // A group as RunGroupAsync builds it: the first source owns the workload, the others share it and its draws.
        using var owner = new GradientSource(config, 0, realTime);
        var replicas = owner.Workload.Replicas(Workers - 1);
        var group = new List<GradientSource> { owner };
        for (var w = 1; w < Workers; w++)
        {
            var source = new GradientSource(config, w, realTime, owner.Workload, replicas[w - 1]);
            source.ShareDelayDraws(owner);
            group.Add(source);
        }

        try
        {
            // Each worker alone, as in a process of its own: the reference.
            var expected = new double[Workers, 50];
            for (var w = 0; w < Workers; w++)
            {
                using var alone = new GradientSource(config, w, realTime);
                for (var t = 0; t < 50; t++)
                {
                    expected[w, t] = alone.Delay(t);
                }
            }

            Assert.Contains(expected.Cast<double>(), d => d != expected[0, 0]); // the model does draw different times

            // Every worker asks for every round, rounds shuffled per worker, all workers at once.
            var results = new double[Workers, 50];
            Parallel.For(0, Workers, new ParallelOptions { MaxDegreeOfParallelism = Workers }, w =>
            {
                var rounds = Enumerable.Range(0, 50).ToArray();
                new Random(w).Shuffle(rounds);
                foreach (var t in rounds.Concat(rounds.Reverse()))
                {
                    results[w, t] = group[w].Delay(t);
                }
            });

            for (var w = 0; w < Workers; w++)
            {
                for (var t = 0; t < 50; t++)
                {
                    Assert.Equal(expected[w, t], results[w, t]);
                }
            }
        }
        finally
        {
            for (var i = group.Count - 1; i > 0; i--)
            {
                group[i].Dispose();
            }
        }
    }
}

using Dstar.Engine.Configuration;
using Dstar.Engine.Workers;
using Xunit;

namespace Dstar.Engine.Tests;

public class WorkerMomentumTests
{
    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(0.5, 2)]
    [InlineData(0.9, 3)]
    public void Worker_momentum_sends_the_running_average_of_each_workers_gradients(double beta, int seed)
    {
        var rng = new Random(seed);
        var momentum = new WorkerMomentum(3, beta);
        var expected = new double[3][];
        for (int round = 0; round < 12; round++)
        {
            for (int w = 0; w < 3; w++)
            {
                if (rng.Next(3) == 0)
                {
                    continue; // a round this worker did not compute
                }

                var g = Enumerable.Range(0, 7).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
                expected[w] = expected[w] is null ? g.Select(v => (double)v).ToArray() : expected[w].Zip(g, (m, x) => (beta * m) + ((1 - beta) * x)).ToArray();
                momentum.Apply(w, g);
                Assert.All(Enumerable.Range(0, 7), j => Assert.True(Math.Abs(expected[w][j] - g[j]) < 1e-5, $"round {round}, worker {w}: {g[j]} vs {expected[w][j]}"));
            }
        }
    }

    [Fact]
    public void Worker_momentum_outside_zero_to_one_is_refused_by_name()
    {
        var errors = ConfigValidator.Validate(new ExperimentConfig { WorkerMomentum = 1 });
        Assert.Contains(errors, e => e.ToString()!.Contains("worker_momentum"));
    }
}

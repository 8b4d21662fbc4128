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

    [Fact]
    public void Capture_without_the_current_round_gives_the_momenta_as_they_were_at_its_start()
    {
        var rng = new Random(7);
        var momentum = new WorkerMomentum(4, 0.8);
        float[] Gradient() => Enumerable.Range(0, 5).Select(_ => (float)rng.NextDouble()).ToArray();
        for (int round = 0; round < 3; round++)
        {
            momentum.BeginRound();
            for (int w = 0; w < 3; w++)
            {
                momentum.Apply(w, Gradient());
            }
        }

        momentum.BeginRound();
        var atStart = momentum.Capture();
        Assert.Null(atStart[3]);
        momentum.Apply(0, Gradient());
        momentum.Apply(0, Gradient());
        momentum.Apply(3, Gradient());
        var withoutRound = momentum.Capture(withoutCurrentRound: true);
        Assert.Equal(atStart.Select(m => m is null ? "-" : string.Join(",", m)), withoutRound.Select(m => m is null ? "-" : string.Join(",", m)));
        Assert.NotEqual(atStart[0], momentum.Capture()[0]);

        // Restored into a fresh instance, the same gradients give the same vectors.
        var copy = new WorkerMomentum(4, 0.8);
        copy.Restore(momentum.Capture());
        var g = Gradient();
        var h = g.ToArray();
        momentum.Apply(2, g);
        copy.Apply(2, h);
        Assert.Equal(g, h);

        Assert.Throws<ArgumentException>(() => copy.Restore([new float[5], null, new float[4], null]));
        Assert.Throws<ArgumentException>(() => copy.Restore([new float[5]]));
    }
}

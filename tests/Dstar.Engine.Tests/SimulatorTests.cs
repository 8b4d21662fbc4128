using Dstar.Engine.Randomness;
using Dstar.Engine.Simulation;
using Xunit;

namespace Dstar.Engine.Tests;

public class SimulatorTests
{
    private static readonly SimulatorOverrides Uniform = new() { Delay = new UniformDelay() };

    [Fact]
    public async Task Mean_with_k_equal_N_is_synchronous_SGD_step_for_step()
    {
        var config = Scenarios.Logistic(workers: 6, k: 6, rounds: 8) with { Data = Scenarios.Logistic().Data with { ValidationSize = 0 } };
        using var sim = new Simulator(config, overrides: Uniform);
        var oracle = sim.Workload.Oracle;
        var x = sim.Workload.InitialParameters.ToArray();
        int d = x.Length;
        var gradient = new float[d];
        for (int t = 0; t < config.Rounds; t++)
        {
            await sim.Server.RunRoundAsync(sim.Transport);

            // Reference: every worker's minibatch gradient at x_t, plain average, x ← x − η·mean, in simple loops.
            var sum = new double[d];
            oracle.SetParameters(x);
            for (int w = 0; w < config.Workers; w++)
            {
                var random = RandomStreams.Create(config.Seed, t, StreamPurpose.Minibatch, w);
                var shard = sim.Workload.Shards[w];
                var batch = Enumerable.Range(0, config.BatchSize).Select(_ => shard[random.Next(shard.Length)]).ToArray();
                oracle.ComputeGradient(batch, gradient);
                for (int j = 0; j < d; j++)
                {
                    sum[j] += gradient[j];
                }
            }

            for (int j = 0; j < d; j++)
            {
                x[j] -= (float)(config.LearningRate * sum[j] / config.Workers);
            }

            var server = sim.Server.Parameters.ToArray();
            for (int j = 0; j < d; j++)
            {
                Assert.True(Math.Abs(server[j] - x[j]) <= 1e-5 * (1 + Math.Abs(x[j])), $"round {t}, coordinate {j}: server {server[j]}, synchronous SGD {x[j]}");
            }
        }
    }

    [Fact]
    public async Task Virtual_round_time_is_the_kth_order_statistic_of_the_sampled_delays()
    {
        var config = Scenarios.Logistic(workers: 9, k: 4, rounds: 10);
        using var sim = new Simulator(config, overrides: Uniform);
        for (int t = 0; t < config.Rounds; t++)
        {
            var e = await sim.Server.RunRoundAsync(sim.Transport);
            var sorted = sim.Transport.RoundDelays.ToArray();
            Array.Sort(sorted);
            Assert.Equal(sorted[config.K - 1], e.RoundSeconds);
            Assert.All(sim.Transport.RoundDelays.ToArray(), delay => Assert.InRange(delay, 1.0, 2.0));
        }
    }

    [Fact]
    public async Task Simulator_computes_only_the_gradients_that_arrive_among_the_first_k()
    {
        var config = Scenarios.Logistic(workers: 10, k: 3, rounds: 5);
        using var sim = new Simulator(config, overrides: Uniform);
        for (int t = 0; t < config.Rounds; t++)
        {
            var e = await sim.Server.RunRoundAsync(sim.Transport);
            Assert.Equal(3, sim.Transport.GradientsComputed);
            Assert.Equal(3, e.AcceptedWorkers.Count);
            Assert.Equal(7, e.Drops.Count(d => d.Reason == Dstar.Engine.Collection.DropReason.Late));
        }
    }

    [Fact]
    public async Task Fast_Byzantine_workers_are_always_among_the_first_k_and_the_attack_sees_the_honest_ones()
    {
        var attack = new RecordingSignFlip();
        var config = Scenarios.Logistic(workers: 10, k: 6, rounds: 6) with { Byzantine = 2, Attack = "sign-flip" };
        using var sim = new Simulator(config, overrides: Uniform with { Attack = attack });
        for (int t = 0; t < config.Rounds; t++)
        {
            var e = await sim.Server.RunRoundAsync(sim.Transport);
            Assert.Contains(8, e.AcceptedWorkers);
            Assert.Contains(9, e.AcceptedWorkers);
            Assert.Equal(new[] { 8, 9 }, e.AcceptedWorkers.Take(2).ToArray());

            // The omniscient attack saw exactly the 4 honest gradients among the first 6, which are also the ones used.
            Assert.Equal(4, attack.HonestCounts[t]);
            Assert.Equal(4, sim.Transport.GradientsComputed);
        }
    }

    [Fact]
    public async Task Honest_timed_Byzantine_workers_arrive_like_honest_ones()
    {
        var config = Scenarios.Logistic(workers: 10, k: 3, rounds: 30) with { Byzantine = 3, Attack = "sign-flip", AttackTiming = "honest" };
        using var sim = new Simulator(config, overrides: Uniform with { Attack = new RecordingSignFlip() });
        int byzantineAccepted = 0;
        for (int t = 0; t < config.Rounds; t++)
        {
            var e = await sim.Server.RunRoundAsync(sim.Transport);
            byzantineAccepted += e.AcceptedWorkers.Count(w => w >= 7);
            var sorted = sim.Transport.RoundDelays.ToArray();
            Array.Sort(sorted);
            Assert.Equal(sorted[2], e.RoundSeconds);
        }

        // With honest timing each accepted slot is Byzantine with probability 3/10: 27 expected of 90, far from 0 and 90.
        Assert.InRange(byzantineAccepted, 10, 50);
    }

    [Fact]
    public async Task Label_flip_workers_train_on_flipped_labels()
    {
        var config = Scenarios.Logistic(workers: 6, k: 6, rounds: 1) with { Byzantine = 1, Attack = "label-flip" };
        using var sim = new Simulator(config, overrides: Uniform);
        var e = await sim.Server.RunRoundAsync(sim.Transport);
        Assert.Equal(6, e.AcceptedWorkers.Count);

        // Worker 5's gradient equals the oracle's flipped-label gradient on its minibatch.
        var oracle = sim.Workload.Oracle;
        oracle.SetParameters(sim.Workload.InitialParameters);
        var random = RandomStreams.Create(config.Seed, 0, StreamPurpose.Minibatch, 5);
        var shard = sim.Workload.Shards[5];
        var batch = Enumerable.Range(0, config.BatchSize).Select(_ => shard[random.Next(shard.Length)]).ToArray();
        var flipped = new float[oracle.ParameterCount];
        var honest = new float[oracle.ParameterCount];
        oracle.ComputeGradient(batch, flipped, flipLabels: true);
        oracle.ComputeGradient(batch, honest, flipLabels: false);

        await sim.Transport.PublishAsync(0, sim.Workload.InitialParameters);
        var arrivals = new List<float[]>();
        await foreach (var arrival in sim.Transport.ReadArrivalsAsync())
        {
            if (arrival.Worker == 5)
            {
                arrivals.Add(arrival.Gradient.ToArray());
            }
        }

        Assert.Equal(flipped, Assert.Single(arrivals));
        Assert.NotEqual(honest, arrivals[0]);
    }

    [Fact]
    public async Task Crashed_worker_is_recorded_late_and_deadline_closes_the_round_with_k_min()
    {
        var config = Scenarios.Logistic(workers: 4, k: 4, rounds: 3) with { Deadline = 5, KMin = 3 };
        using var sim = new Simulator(config, overrides: new() { Delay = new CrashAfter(new UniformDelay(), crashed: 2, from: 1) });
        var first = await sim.Server.RunRoundAsync(sim.Transport);
        Assert.Equal(4, first.AcceptedWorkers.Count);
        var second = await sim.Server.RunRoundAsync(sim.Transport);
        Assert.Equal(3, second.AcceptedWorkers.Count);
        Assert.Equal(5.0, second.RoundSeconds);
        Assert.Contains(second.Drops, d => d.Worker == 2 && d.Reason == Dstar.Engine.Collection.DropReason.Late);
    }
}

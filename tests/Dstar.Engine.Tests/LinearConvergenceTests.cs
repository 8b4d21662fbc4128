using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;
using Xunit;
using Xunit.Abstractions;

namespace Dstar.Engine.Tests;

/// <summary>
/// On a strongly convex problem (ridge regression with a known optimum θ*) dSTAR with a constant step converges
/// linearly to a noise floor set by the minibatch noise, also with 4 fast Byzantine workers among the first k.
/// </summary>
[Trait("Category", "EndToEnd")]
public class LinearConvergenceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("ipm epsilon=100")]
    [InlineData("alie")]
    [InlineData("sign-flip")]
    public async Task Dstar_error_shrinks_geometrically_to_a_noise_floor_under_attack(string attack)
    {
        var config = new ExperimentConfig
        {
            Seed = 5,
            Rounds = 150,
            Data = new DataConfig { Name = "synthetic-linear", Samples = 4000, Features = 10, Noise = 0.1, ValidationSize = 500 },
            Model = "linreg",
            Workers = 20,
            K = 15,
            Byzantine = 4,
            Attack = attack,
            Aggregator = "dstar",
            Delay = "shifted-exp",
            LearningRate = 0.1,
            BatchSize = 32,
            CheckpointEvery = 0,
        };
        using var sim = new Simulator(config);
        var optimum = sim.Workload.Synthetic!.Optimum;
        double Distance()
        {
            var x = sim.Server.Parameters.Span;
            double sum = 0;
            for (int j = 0; j < x.Length; j++)
            {
                sum += (x[j] - optimum[j]) * (double)(x[j] - optimum[j]);
            }

            return Math.Sqrt(sum);
        }

        var errors = new List<double> { Distance() };
        for (int t = 0; t < config.Rounds; t++)
        {
            await sim.Server.RunRoundAsync(sim.Transport);
            errors.Add(Distance());
        }

        var floor = errors.Skip(100).Average();
        output.WriteLine($"{attack}: ‖x₀ − θ*‖ = {errors[0]:G4}, after 10/20/40 rounds {errors[10]:G4}/{errors[20]:G4}/{errors[40]:G4}, floor (mean of rounds 100–150) {floor:G4}");

        // Linear phase: while far above the floor, every 10 rounds cut the error by a constant factor. Sign-flip slows
        // the contraction (it shrinks the kept mean along the gradient, docs/method.md), so the bound is 0.75 rather than
        // the ≈ 0.35 seen without it.
        for (int t = 0; t + 10 < errors.Count && errors[t] > 10 * floor; t += 10)
        {
            Assert.True(errors[t + 10] <= 0.75 * errors[t], $"round {t} → {t + 10}: error {errors[t]:G4} → {errors[t + 10]:G4}, not geometric");
        }

        // The floor is small and stays put: no drift back up under attack.
        Assert.True(floor < 0.02 * errors[0], $"floor {floor:G4} is not small against the initial error {errors[0]:G4}");
        Assert.True(errors.Skip(100).Max() < 3 * floor + 1e-6, "the error does not stay at its floor");
    }
}

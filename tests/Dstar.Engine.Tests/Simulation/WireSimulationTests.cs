using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Engine.Collection;
using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;
using Dstar.Engine.Tests.Transport;
using Dstar.Engine.Transport;
using Xunit;

namespace Dstar.Engine.Tests.Simulation;

/// <summary>
/// <c>wire: bfloat16 | float16</c> in the simulator: the rows the collector accepts (the rule's input) are the float32
/// run's rows rounded value by value, for honest rows after worker momentum and for crafted rows as the attacker made
/// them from float32 honest rows; a value the format cannot hold gets the gradient dropped as malformed, never
/// clipped; float32 changes nothing.
/// </summary>
public class WireSimulationTests
{
    private static ExperimentConfig Config(string wire, string? attack = null, string timing = "fast", double workerMomentum = 0, int threads = 1) =>
        Scenarios.Logistic(workers: 10, k: 7, rounds: 6) with
        {
            Wire = wire,
            Byzantine = attack is null ? 0 : 3,
            Attack = attack,
            AttackTiming = timing,
            WorkerMomentum = workerMomentum,
            Delay = "shifted-exp shift=1 rate=1",
            Data = new DataConfig { Name = "synthetic-logistic", Samples = 3000, Features = 40, ValidationSize = 200 },
            SimulationParallel = threads,
        };

    /// <summary>
    /// One round driven as the server drives it, at <paramref name="parameters"/>: publish, offer arrivals until k are
    /// accepted; the accepted workers and rows, and every verdict with the arrival's values as offered.
    /// </summary>
    private static async Task<(int[] Workers, float[][] Rows, List<(int Worker, float[] Values, Drop? Verdict)> Offers)> Round(Simulator simulator, long round, float[] parameters)
    {
        var collector = simulator.Server.Collector;
        collector.Begin(round);
        await simulator.Transport.PublishAsync(round, parameters);
        var offers = new List<(int, float[], Drop?)>();
        await foreach (var arrival in simulator.Transport.ReadArrivalsAsync())
        {
            var values = arrival.Gradient.ToArray();
            offers.Add((arrival.Worker, values, collector.Offer(arrival)));
            if (collector.IsComplete)
            {
                break;
            }
        }

        collector.Close();
        var rows = Enumerable.Range(0, collector.Batch.Count).Select(i => collector.Batch.Row(i).ToArray()).ToArray();
        return (collector.AcceptedWorkers.ToArray(), rows, offers);
    }

    [Theory]
    [InlineData("bfloat16", null, "fast", 0.9, 1)]
    [InlineData("float16", null, "fast", 0.9, 2)]
    [InlineData("bfloat16", "alie", "fast", 0.0, 1)]
    [InlineData("float16", "alie", "honest", 0.5, 1)]
    [InlineData("bfloat16", "alie", "honest", 0.0, 2)]
    [InlineData("float16", "label-flip", "honest", 0.0, 1)]
    public async Task The_rule_sees_each_gradient_as_a_per_value_round_trip_of_the_float32_one(string wire, string? attack, string timing, double workerMomentum, int threads)
    {
        var format = WireFormats.Parse(wire);
        using var exact = new Simulator(Config("float32", attack, timing, workerMomentum, threads));
        using var encoded = new Simulator(Config(wire, attack, timing, workerMomentum, threads));
        var random = new Random(11);
        var parameters = new float[exact.Server.Parameters.Length];
        int compared = 0;
        for (long t = 0; t < 6; t++)
        {
            // The same random x_t for both, over several magnitudes, so the gradients span a range of exponents.
            double scale = Math.Pow(10, random.Next(-2, 3));
            for (int j = 0; j < parameters.Length; j++)
            {
                parameters[j] = (float)((random.NextDouble() * 2 - 1) * scale);
            }

            var expected = await Round(exact, t, parameters);
            var actual = await Round(encoded, t, parameters);
            Assert.Equal(expected.Workers, actual.Workers);
            for (int i = 0; i < expected.Rows.Length; i++)
            {
                for (int j = 0; j < expected.Rows[i].Length; j++)
                {
                    var reference = GradientCodecTests.Reference(format, expected.Rows[i][j]);
                    Assert.True(GradientCodecTests.Same(reference, actual.Rows[i][j]),
                        $"round {t}, worker {expected.Workers[i]}, index {j}: {expected.Rows[i][j]:R} → {actual.Rows[i][j]:R}, expected {reference:R}");
                    compared += reference != expected.Rows[i][j] ? 1 : 0;
                }
            }
        }

        Assert.True(compared > 100, $"only {compared} values changed in rounding: the test would not see a missing round trip");
    }

    /// <summary>The attack's rows are the honest mean with one coordinate replaced by <paramref name="value"/>.</summary>
    private sealed class OneLargeValue(float value) : IAttack
    {
        public string Name => "one-large-value";

        public bool IsOmniscient => true;

        public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
        {
            for (int b = 0; b < byzantine.Count; b++)
            {
                var row = byzantine.Row(b);
                row.Clear();
                for (int i = 0; i < honest.Count; i++)
                {
                    var h = honest.Row(i);
                    for (int j = 0; j < row.Length; j++)
                    {
                        row[j] += h[j] / honest.Count;
                    }
                }

                row[3] = value;
            }
        }
    }

    [Theory]
    [InlineData(70000f)]
    [InlineData(65520f)]
    [InlineData(-1e6f)]
    public async Task A_value_float16_cannot_hold_gets_the_gradient_dropped_as_malformed_never_clipped(float large)
    {
        const string timing = "fast";
        var overrides = new SimulatorOverrides { Attack = new OneLargeValue(large) };
        using (var simulator = new Simulator(Config("float16", "alie", timing), overrides: overrides))
        {
            var (workers, rows, offers) = await Round(simulator, 0, new float[simulator.Server.Parameters.Length]);
            var byzantine = offers.Where(o => simulator.ByzantineWorkers.Contains(o.Worker)).ToArray();
            Assert.NotEmpty(byzantine);
            Assert.All(byzantine, o =>
            {
                Assert.Equal(float.IsPositive(large) ? float.PositiveInfinity : float.NegativeInfinity, o.Values[3]);
                Assert.Equal(DropReason.Malformed, o.Verdict?.Reason);
                Assert.Contains("NaN or ±∞", o.Verdict?.Detail);
            });
            Assert.DoesNotContain(workers, simulator.ByzantineWorkers.Contains);
            Assert.All(rows, row => Assert.True(Math.Abs(row[3]) < 65504, $"a kept row holds {row[3]} at the crafted index"));
        }

        // A whole run: every Byzantine gradient is dropped as malformed, none is kept; in float32 the same rows are accepted.
        async Task<Dstar.Engine.Recording.RunSummary> Run(string wire)
        {
            using var simulator = new Simulator(Config(wire, "alie", timing), overrides: new SimulatorOverrides { Attack = new OneLargeValue(large) });
            return (await simulator.RunAsync(Scenarios.TemporaryDirectory(), plots: false))!;
        }

        var half = await Run("float16");
        var full = await Run("float32");
        Assert.Equal(0, half.ByzantineAccepted);
        Assert.Equal(6 * 3, half.Drops.GetValueOrDefault(DropReason.Malformed.Name()));
        Assert.Equal(6 * 3, full.ByzantineAccepted);
        Assert.Equal(0, full.Drops.GetValueOrDefault(DropReason.Malformed.Name()));
    }

    [Theory]
    [InlineData(null, 0.0)]
    [InlineData("alie", 0.9)]
    public async Task Float32_on_the_wire_gives_the_metrics_of_a_config_without_the_key(string? attack, double workerMomentum)
    {
        async Task<(string[] Metrics, float[] Parameters)> Run(string yamlWire)
        {
            var yaml = $"""
                seed: 3
                rounds: 12
                eval_every: 4
                data:
                  name: synthetic-logistic
                  samples: 3000
                  features: 40
                  validation_size: 200
                model: logreg
                workers: 10
                k: 7
                aggregator: median
                delay: shifted-exp shift=1 rate=1
                lr: 0.5
                batch_size: 16
                worker_momentum: {workerMomentum}
                checkpoint_every: 0
                simulation:
                  parallel: 1
                {(attack is null ? "" : $"byzantine: 3\nattack: {attack}\n")}{yamlWire}
                """;
            var path = Path.Combine(Scenarios.TemporaryDirectory(), "config.yaml");
            File.WriteAllText(path, yaml);
            using var simulator = new Simulator(ConfigLoader.LoadFile(path));
            var directory = Scenarios.TemporaryDirectory();
            await simulator.RunAsync(directory, plots: false);
            return (Scenarios.MetricsWithoutWallTime(directory), simulator.Server.Parameters.ToArray());
        }

        var without = await Run("");
        var float32 = await Run("wire: float32\n");
        var bfloat16 = await Run("wire: bfloat16\n");
        Assert.Equal(without.Metrics, float32.Metrics);
        Assert.Equal(without.Parameters.Select(BitConverter.SingleToInt32Bits), float32.Parameters.Select(BitConverter.SingleToInt32Bits));

        // The comparison can tell: a format that rounds moves the parameters.
        Assert.NotEqual(without.Parameters.Select(BitConverter.SingleToInt32Bits), bfloat16.Parameters.Select(BitConverter.SingleToInt32Bits));
    }
}

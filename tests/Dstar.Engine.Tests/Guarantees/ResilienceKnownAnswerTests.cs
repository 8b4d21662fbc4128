using Dstar.Core.Optimization;
using Dstar.Core.Specs;
using Dstar.Engine.Configuration;
using Dstar.Engine.Guarantees;
using Dstar.Engine.Server;
using Dstar.Engine.Simulation;
using Dstar.Learning;
using Xunit;
using Xunit.Abstractions;

namespace Dstar.Engine.Tests.Guarantees;

/// <summary>
/// The resilience estimate on cases whose answer is known in closed form: the mean without attack is unbiased, the
/// mean under sign-flip shrinks ⟨E[G], g⟩/‖g‖² to (n − 2f)/n, and the coordinate-wise median is unbiased on
/// symmetric noise (and biased on skewed noise, which shows the test can fail).
/// </summary>
public class ResilienceKnownAnswerTests(ITestOutputHelper output)
{
    private static ExperimentConfig Linear(int byzantine = 0, string? attack = null, string aggregator = "mean") => new()
    {
        Seed = 7,
        Rounds = 10,
        Data = new DataConfig { Name = "synthetic-linear", Samples = 2000, Features = 8, Noise = 0.5, ValidationSize = 200 },
        Model = "linreg",
        Workers = 10,
        K = 10,
        Byzantine = byzantine,
        Attack = attack,
        AttackTiming = "honest",
        Aggregator = aggregator,
        Delay = "shifted-exp",
        LearningRate = 0.1,
        BatchSize = 8,
        CheckpointEvery = 0,
    };

    [Fact]
    public async Task Mean_without_attack_estimates_the_true_gradient()
    {
        var config = Linear();
        using var session = new ResilienceSession(config);
        var result = await session.EstimateAsync(config, session.Initial, draws: 80);
        var report = result.Report ?? throw new Xunit.Sdk.XunitException(result.Failure);
        output.WriteLine($"ratio {report.Ratio}, debiased bias {report.DebiasedBias}, resolution {report.BiasResolution:G3}");

        Assert.True(report.Ratio.Contains(1), $"⟨E[G], g⟩/‖g‖² interval {report.Ratio} does not hold 1");
        Assert.Equal(0, report.DebiasedBias.Low);
        Assert.True(report.Holds);
        Assert.Equal(0, report.AlphaUpperDegrees!.Value, 1e-9 + 90 * (1 - report.Ratio.Low));

        // The plain mean without attack is its own baseline: the same draws, so the variance ratio is exactly 1.
        Assert.Equal(1, report.VarianceRatio!.Value.Estimate, 6);

        // One worker's minibatch gradient is noisier than the mean of ten.
        Assert.True(report.Moments[0].Ratio < 1);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Mean_under_sign_flip_shrinks_the_gradient_to_n_minus_2f_over_n(int byzantine)
    {
        var config = Linear(byzantine, "sign-flip");
        using var session = new ResilienceSession(config);
        var result = await session.EstimateAsync(config, session.Initial, draws: 80);
        var report = result.Report ?? throw new Xunit.Sdk.XunitException(result.Failure);
        double expected = (config.Workers - 2.0 * byzantine) / config.Workers;
        output.WriteLine($"f = {byzantine}: ratio {report.Ratio}, expected {expected}, α = {report.AlphaDegrees:F1}°");

        Assert.True(report.Ratio.Contains(expected), $"interval {report.Ratio} does not hold (n − 2f)/n = {expected}");
        Assert.False(report.Ratio.Contains(1));
        Assert.Equal(Math.Asin(1 - report.Ratio.Estimate) * 180 / Math.PI, report.AlphaDegrees!.Value, 9);
    }

    [Fact]
    public async Task A_rule_the_config_refuses_is_reported_not_thrown()
    {
        var config = Linear();
        using var session = new ResilienceSession(config);
        var result = await session.EstimateAsync(config with { Byzantine = 4, Attack = "sign-flip", Aggregator = "bulyan" }, session.Initial, draws: 5);
        Assert.Null(result.Report);
        Assert.Contains("bulyan", result.Failure!, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Median_is_unbiased_on_symmetric_noise_and_biased_on_skewed_noise(bool skewed)
    {
        const int workers = 9, perWorker = 400, d = 6, draws = 300;
        using var oracle = new NoisyOracle(d, workers * perWorker, skewed, seed: 4);
        var shards = Enumerable.Range(0, workers).Select(w => Enumerable.Range(w * perWorker, perWorker).ToArray()).ToArray();
        var transport = new SimulatedTransport(oracle, shards, batchSize: 1, Registry.Delays.Create("constant"), k: workers, seed: 5);
        var server = new ParameterServer(
            new ParameterServerOptions { WorkerCount = workers, K = workers, Seed = 5 },
            new float[d], Registry.Pipeline("median"), new Sgd(d, 0.1));
        var point = new ResiliencePoint("test", new float[d], null, 0);

        var aggregates = await AggregateDraws.DrawAsync(server, transport, point, draws);
        oracle.SetParameters(point.Parameters);
        var shardGradients = shards.Select(s => HonestReference.ShardGradient(oracle, s)).ToArray();
        var honest = HonestReference.Compute(oracle, shards, Enumerable.Range(0, workers).ToArray(), shardGradients, 1, 5, 0, draws);
        var report = ResilienceEstimator.Estimate(aggregates, honest);
        output.WriteLine($"skewed = {skewed}: ratio {report.Ratio}, debiased bias {report.DebiasedBias}");

        Assert.Equal(skewed, !report.Ratio.Contains(1));
    }

    /// <summary>
    /// Sample i's gradient is g + nᵢ for a fixed g. Symmetric: samples come in pairs with noise +v and −v, so every shard
    /// of whole pairs has mean g and a one-sample minibatch is symmetric about g. Skewed: nᵢ = s·(Eᵢ − 1) per coordinate
    /// with Eᵢ exponential, along g, so the median of a few samples sits below the mean.
    /// </summary>
    private sealed class NoisyOracle : IGradientOracle
    {
        private readonly float[] _truth;
        private readonly float[][] _noise;

        public NoisyOracle(int d, int samples, bool skewed, int seed)
        {
            var random = new Random(seed);
            _truth = Enumerable.Range(0, d).Select(_ => (float)(1 + random.NextDouble())).ToArray();
            _noise = new float[samples][];
            for (int i = 0; i < samples; i += 2)
            {
                var v = Enumerable.Range(0, d).Select(_ => skewed ? (float)(2 * (-Math.Log(1 - random.NextDouble()) - 1)) : (float)(2 * Gaussian(random))).ToArray();
                var w = skewed ? Enumerable.Range(0, d).Select(_ => (float)(2 * (-Math.Log(1 - random.NextDouble()) - 1))).ToArray() : v.Select(x => -x).ToArray();
                _noise[i] = v;
                _noise[i + 1] = w;
            }
        }

        public int ParameterCount => _truth.Length;

        public void SetParameters(ReadOnlySpan<float> parameters)
        {
        }

        public void GetParameters(Span<float> destination) => destination.Clear();

        public double ComputeGradient(ReadOnlySpan<int> sampleIndices, Span<float> gradient, bool flipLabels = false)
        {
            for (int j = 0; j < gradient.Length; j++)
            {
                double sum = 0;
                foreach (var i in sampleIndices)
                {
                    sum += _truth[j] + _noise[i][j];
                }

                gradient[j] = (float)(sum / sampleIndices.Length);
            }

            return 0;
        }

        public double Loss(ReadOnlySpan<int> sampleIndices) => 0;

        public Evaluation Evaluate() => new(double.NaN, 0);

        public void Dispose()
        {
        }

        private static double Gaussian(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}

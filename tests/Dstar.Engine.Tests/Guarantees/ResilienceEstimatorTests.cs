using Dstar.Engine.Guarantees;
using Xunit;

namespace Dstar.Engine.Tests.Guarantees;

/// <summary>The estimator's point estimates against naive formulas on random draws.</summary>
public class ResilienceEstimatorTests
{
    [Theory]
    [InlineData(1, 5, 3)]
    [InlineData(2, 12, 17)]
    [InlineData(3, 40, 4)]
    public void Estimates_match_naive_formulas_on_random_draws(int seed, int rounds, int d)
    {
        var random = new Random(seed);
        float Next() => (float)(random.NextDouble() * 2 - 1);
        var g = Enumerable.Range(0, d).Select(_ => Next() + 0.5f).ToArray();
        var draws = Enumerable.Range(0, rounds).Select(_ => Enumerable.Range(0, d).Select(j => g[j] * 0.7f + Next()).ToArray()).ToArray();
        var baseline = Enumerable.Range(0, rounds).Select(_ => Enumerable.Range(0, d).Select(j => g[j] + 0.5f * Next()).ToArray()).ToArray();
        double gNorm = Math.Sqrt(g.Sum(v => (double)v * v));
        var honest = new HonestReference(g, gNorm, 2.0, [3.0, 4.0, 5.0], 10);

        var report = ResilienceEstimator.Estimate(draws, honest, baseline, new ResilienceOptions { BootstrapSamples = 50 });

        double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
        double[] Minus(float[] a, IReadOnlyList<double> b) => a.Select((x, j) => x - b[j]).ToArray();
        var mean = Enumerable.Range(0, d).Select(j => draws.Average(r => (double)r[j])).ToArray();
        var baseMean = Enumerable.Range(0, d).Select(j => baseline.Average(r => (double)r[j])).ToArray();
        double Trace(float[][] rows, double[] m) => rows.Sum(r => Minus(r, m).Sum(v => v * v)) / (rounds - 1);

        Assert.Equal(draws.Average(r => Dot(r, g)) / (gNorm * gNorm), report.Ratio.Estimate, 9);
        Assert.Equal(draws.Average(r => Math.Pow(Dot(r, r), 1.5)), report.Moments[1].Aggregate.Estimate, 6);
        Assert.Equal(Math.Sqrt(Minus(g, mean).Sum(v => v * v)) / gNorm, report.Bias, 6);
        Assert.Equal(Trace(draws, mean) / (gNorm * gNorm), report.Variance, 6);
        Assert.Equal(Trace(draws, mean) / Trace(baseline, baseMean), report.VarianceRatio!.Value.Estimate, 6);

        // U = Σ_{r≠s}⟨vᵣ, vₛ⟩/(R(R−1)) with v = G − g.
        var v = draws.Select(r => r.Select((x, j) => (double)x - g[j]).ToArray()).ToArray();
        double u = 0;
        for (int r = 0; r < rounds; r++)
        {
            for (int s = 0; s < rounds; s++)
            {
                u += r == s ? 0 : v[r].Zip(v[s], (a, b) => a * b).Sum();
            }
        }

        Assert.Equal(Math.Sqrt(Math.Max(0, u / (rounds * (rounds - 1.0)))) / gNorm, report.DebiasedBias.Estimate, 6);
        Assert.True(report.Ratio.Low <= report.Ratio.Estimate && report.Ratio.Estimate <= report.Ratio.High);
    }

    [Fact]
    public void Ratio_at_or_below_zero_means_no_alpha_and_the_condition_fails()
    {
        var g = new float[] { 1, 0 };
        var draws = new[] { new float[] { -1, 0.1f }, new float[] { -0.9f, -0.1f }, new float[] { -1.1f, 0 } };
        var report = ResilienceEstimator.Estimate(draws, new HonestReference(g, 1, 1, [1, 1, 1], 1));
        Assert.Null(report.AlphaDegrees);
        Assert.False(report.Holds);
    }

    [Fact]
    public void A_non_finite_draw_is_refused_with_its_index()
    {
        var g = new float[] { 1, 0 };
        var draws = new[] { new float[] { 1, 0 }, new float[] { float.NaN, 0 } };
        var e = Assert.Throws<ArgumentException>(() => ResilienceEstimator.Estimate(draws, new HonestReference(g, 1, 1, [1, 1, 1], 1)));
        Assert.Contains("draw 1", e.Message);
    }
}

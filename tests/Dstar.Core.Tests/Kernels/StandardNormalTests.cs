using Dstar.Core.Kernels;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

public class StandardNormalTests
{
    // Reference quantiles (tables of the normal distribution, to 15 digits).
    [Theory]
    [InlineData(0.5, 0.0)]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.8413447460685429, 1.0)] // Φ(1)
    [InlineData(0.85, 1.0364333894937898)]
    [InlineData(0.99, 2.3263478740408408)]
    [InlineData(0.001, -3.090232306167813)]
    [InlineData(0.02, -2.053748910631823)] // lower tail branch
    [InlineData(1e-10, -6.361340902404056)]
    [InlineData(0.9999, 3.719016485455709)] // upper tail branch
    public void Quantile_matches_known_values(double p, double expected)
    {
        // Acklam's approximation has relative error below 1.15e-9.
        Assert.True(Math.Abs(StandardNormal.Quantile(p) - expected) <= 2e-9 * Math.Max(1, Math.Abs(expected)),
            $"Φ⁻¹({p}) = {StandardNormal.Quantile(p)}, expected {expected}");
    }

    [Fact]
    public void Quantile_is_increasing_and_antisymmetric()
    {
        double previous = double.NegativeInfinity;
        for (int i = 1; i < 10_000; i++)
        {
            double p = i / 10_000.0;
            double q = StandardNormal.Quantile(p);
            Assert.True(q > previous, $"Φ⁻¹ not increasing at {p}");
            Assert.True(Math.Abs(q + StandardNormal.Quantile(1 - p)) < 1e-8, $"Φ⁻¹({p}) ≠ −Φ⁻¹(1 − {p})");
            previous = q;
        }
    }

    [Fact]
    public void Quantile_edges_and_refusals()
    {
        Assert.Equal(double.NegativeInfinity, StandardNormal.Quantile(0));
        Assert.Equal(double.PositiveInfinity, StandardNormal.Quantile(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StandardNormal.Quantile(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StandardNormal.Quantile(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => StandardNormal.Quantile(double.NaN));
    }

    [Fact]
    public void Draws_have_mean_zero_unit_variance_and_repeat_with_the_seed()
    {
        var values = new float[200_001];
        StandardNormal.Fill(new Random(5), values, scale: 2);
        double mean = values.Average(v => (double)v);
        double variance = values.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(variance, 4 * 0.98, 4 * 1.02);
        // The fraction below Φ⁻¹(0.85)·2 should be 0.85.
        double below = values.Count(v => v <= 2 * 1.0364333894937898) / (double)values.Length;
        Assert.InRange(below, 0.845, 0.855);

        var again = new float[values.Length];
        StandardNormal.Fill(new Random(5), again, scale: 2);
        Assert.Equal(values, again);

        var rng = new Random(8);
        var single = Enumerable.Range(0, 100_000).Select(_ => StandardNormal.Sample(rng)).ToArray();
        Assert.InRange(single.Average(), -0.02, 0.02);
    }
}

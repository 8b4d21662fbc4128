using Dstar.Core.Stragglers;
using Xunit;

namespace Dstar.Core.Tests.Stragglers;

/// <summary>Each delay model's mean or quantiles on 200,000 draws, against the closed form.</summary>
public class DelayDistributionTests
{
    private const int Draws = 200_000;

    private static double[] Sample(IDelayModel model, int worker = 0, int seed = 42)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Draws).Select(r => model.Sample(worker, r, random)).ToArray();
    }

    private static double Quantile(double[] values, double p)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[(int)(p * (sorted.Length - 1))];
    }

    [Fact]
    public void Shifted_exponential_has_mean_shift_plus_one_over_rate()
    {
        // a = 2, λ = 0.5: mean a + 1/λ = 4, standard error 2/√200000 ≈ 0.0045; never below a.
        var times = Sample(new ShiftedExponential(shift: 2, rate: 0.5));
        Assert.InRange(times.Average(), 3.97, 4.03);
        Assert.True(times.Min() >= 2);
        // Median a + ln 2/λ = 3.386.
        Assert.InRange(Quantile(times, 0.5), 3.386 - 0.02, 3.386 + 0.02);
    }

    [Fact]
    public void Shifted_exponential_multiplies_by_the_worker_speed_factor()
    {
        var model = new ShiftedExponential(shift: 1, rate: 1, speeds: [1, 3]);
        Assert.InRange(Sample(model, worker: 1).Average(), 3 * 2 * 0.99, 3 * 2 * 1.01);
        Assert.InRange(Sample(model, worker: 0).Average(), 2 * 0.99, 2 * 1.01);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Sample(2, 0, new Random(0)));
        Assert.Contains("speeds lists 2 workers", e.Message);
    }

    [Fact]
    public void Pareto_has_mean_xm_alpha_over_alpha_minus_one_and_median_xm_two_to_one_over_alpha()
    {
        // α = 3 has finite variance: mean 2·3/2 = 3 (standard error ≈ 0.004).
        Assert.InRange(Sample(new Pareto(scale: 2, shape: 3)).Average(), 2.97, 3.03);
        // α = 1.5 (the default) has infinite variance: check quantiles, median x_m·2^(1/α) = 1.5874, 90 %: x_m·10^(1/α) = 4.6416.
        var heavy = Sample(new Pareto());
        Assert.InRange(Quantile(heavy, 0.5), 1.5874 * 0.99, 1.5874 * 1.01);
        Assert.InRange(Quantile(heavy, 0.9), 4.6416 * 0.98, 4.6416 * 1.02);
        Assert.True(heavy.Min() >= 1);
    }

    [Fact]
    public void Log_normal_has_median_e_to_the_mu_and_mean_e_to_mu_plus_half_sigma_squared()
    {
        // μ = 0.5, σ = 0.8: median e^0.5 = 1.6487, mean e^(0.5 + 0.32) = 2.2705.
        var times = Sample(new LogNormal(mu: 0.5, sigma: 0.8));
        Assert.InRange(Quantile(times, 0.5), 1.6487 * 0.99, 1.6487 * 1.01);
        Assert.InRange(times.Average(), 2.2705 * 0.99, 2.2705 * 1.01);
    }

    [Fact]
    public void Bimodal_persistent_slow_set_is_a_fixed_fraction_p_of_workers()
    {
        var model = new Bimodal(probability: 0.2, slowdown: 10, baseTime: 1.5, persistent: true, seed: 7);
        var random = new Random(0);
        var first = Enumerable.Range(0, Draws).Select(w => model.Sample(w, 0, random)).ToArray();
        Assert.All(first, t => Assert.True(t == 1.5 || t == 15, $"time {t}"));
        Assert.InRange(first.Count(t => t == 15) / (double)Draws, 0.195, 0.205);
        // Same workers slow in a later round and across model instances with the same seed; another seed differs.
        var again = new Bimodal(probability: 0.2, slowdown: 10, baseTime: 1.5, persistent: true, seed: 7);
        Assert.All(Enumerable.Range(0, 1000), w => Assert.Equal(first[w], again.Sample(w, 37, random)));
        var other = new Bimodal(probability: 0.2, slowdown: 10, baseTime: 1.5, persistent: true, seed: 8);
        Assert.Contains(Enumerable.Range(0, 1000), w => other.Sample(w, 0, random) != first[w]);
    }

    [Fact]
    public void Bimodal_redrawn_slowness_changes_between_rounds_with_fraction_p()
    {
        var model = new Bimodal(probability: 0.3, persistent: false);
        var times = Sample(model, worker: 5);
        Assert.InRange(times.Count(t => t == 10) / (double)Draws, 0.295, 0.305);
        Assert.All(times, t => Assert.True(t == 1 || t == 10));
    }

    [Fact]
    public void Bimodal_probability_zero_and_one_are_all_fast_and_all_slow()
    {
        var random = new Random(1);
        Assert.All(Enumerable.Range(0, 1000), w => Assert.Equal(1, new Bimodal(probability: 0).Sample(w, 0, random)));
        Assert.All(Enumerable.Range(0, 1000), w => Assert.Equal(10, new Bimodal(probability: 1, persistent: false).Sample(w, 0, random)));
    }

    [Fact]
    public void Constant_is_constant()
    {
        Assert.All(Sample(new ConstantDelay(2.5)).Take(1000), t => Assert.Equal(2.5, t));
    }

    [Fact]
    public void Every_random_model_repeats_with_the_seed()
    {
        foreach (var model in new IDelayModel[] { new ShiftedExponential(), new Pareto(), new LogNormal(), new Bimodal(persistent: false) })
        {
            var random1 = new Random(9);
            var random2 = new Random(9);
            var a = Enumerable.Range(0, 100).Select(r => model.Sample(r % 4, r, random1)).ToArray();
            var b = Enumerable.Range(0, 100).Select(r => model.Sample(r % 4, r, random2)).ToArray();
            Assert.Equal(a, b);
            Assert.True(a.Distinct().Count() > 1, $"{model.Name} does not vary");
        }
    }

    [Fact]
    public void Negative_worker_or_round_is_refused()
    {
        foreach (var model in new IDelayModel[] { new ShiftedExponential(), new Pareto(), new LogNormal(), new Bimodal(), new ConstantDelay() })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => model.Sample(-1, 0, new Random(0)));
            Assert.Throws<ArgumentOutOfRangeException>(() => model.Sample(0, -1, new Random(0)));
        }
    }
}

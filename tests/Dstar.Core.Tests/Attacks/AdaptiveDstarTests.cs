using Dstar.Core.Attacks;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Attacks;

public class AdaptiveDstarTests
{
    /// <summary>
    /// The dSTAR filter as docs/method.md states it, in plain loops: m = coordinate median of the workers' rows and g₀,
    /// δᵢ = ‖gᵢ − m‖, keep i when δᵢ ≤ τ·δ₀ (or τ·median δ without g₀).
    /// </summary>
    private static bool[] ReferenceFilter(float[][] workers, float[]? validation, double tau)
    {
        var all = validation is null ? workers : workers.Append(validation).ToArray();
        var median = Reference.Median(all);
        var deviations = workers.Select(w => Reference.Distance(w, median)).ToArray();
        double reference;
        if (validation is not null)
        {
            reference = Reference.Distance(validation, median);
        }
        else
        {
            var sorted = deviations.OrderBy(v => v).ToArray();
            int k = sorted.Length;
            reference = k % 2 == 1 ? sorted[k / 2] : (sorted[k / 2 - 1] + sorted[k / 2]) / 2;
        }

        return deviations.Select(delta => delta <= tau * reference).ToArray();
    }

    private static (float[][] Honest, float[] Validation) Round(int h, int d, int seed)
    {
        var rows = Reference.Rows(h + 1, d, seed, spread: 1, offset: 2);
        return (rows.Take(h).ToArray(), rows[h]);
    }

    private static float[][] Craft(AdaptiveDstar attack, float[][] honest, float[]? validation, int f)
    {
        var byzantine = Reference.Empty(f, honest[0].Length);
        var context = new AttackContext(honest.Length + f, f, new Random(1))
        {
            AggregationContext = validation is null ? null : new AggregationContext(f) { ValidationGradient = validation },
        };
        attack.Craft(Reference.Batch(honest), context, byzantine);
        return Enumerable.Range(0, f).Select(i => byzantine.Row(i).ToArray()).ToArray();
    }

    private static float[] Scaled(float[][] honest, double scale) =>
        Reference.Mean(honest).Zip(Reference.Deviation(honest), (m, s) => (float)(m - scale * s)).ToArray();

    [Property(MaxTest = 30)]
    public Property Adaptive_rows_pass_the_reference_filter_and_a_slightly_larger_gamma_fails(PositiveInt honestCount, PositiveInt cols, int seed, bool useValidation)
    {
        int h = honestCount.Get % 12 + 4, d = cols.Get % 40 + 2, f = h / 3 + 1;
        const double tau = 2;
        var (honest, g0) = Round(h, d, seed);
        var validation = useValidation ? g0 : null;
        var attack = new AdaptiveDstar(tau);
        var sent = Craft(attack, honest, validation, f);

        bool form = sent.All(row => Reference.Distance(row, Scaled(honest, attack.LastScale)) <= 1e-4 * (1 + Reference.Distance(row, new double[d])));
        bool passes = ReferenceFilter(honest.Concat(sent).ToArray(), validation, tau).Skip(h).All(kept => kept);
        var larger = Scaled(honest, attack.LastScale * 1.02 + 1e-6);
        bool largerFails = !ReferenceFilter(honest.Concat(Enumerable.Repeat(larger, f)).ToArray(), validation, tau).Skip(h).Any(kept => kept);
        return (form && passes && largerFails && attack.LastScale > 0)
            .Label($"γ = {attack.LastScale}, form {form}, passes {passes}, larger fails {largerFails}");
    }

    [Fact]
    public void A_smaller_tau_gives_a_smaller_gamma()
    {
        var (honest, g0) = Round(10, 30, seed: 3);
        var loose = new AdaptiveDstar(tau: 3);
        var tight = new AdaptiveDstar(tau: 1.2);
        Craft(loose, honest, g0, 3);
        Craft(tight, honest, g0, 3);
        Assert.True(tight.LastScale < loose.LastScale, $"τ = 1.2 gave γ = {tight.LastScale}, τ = 3 gave γ = {loose.LastScale}");
    }

    [Fact]
    public void Median_deviation_reference_ignores_a_given_validation_gradient()
    {
        var (honest, g0) = Round(10, 30, seed: 5);
        var withReference = new AdaptiveDstar(useValidationReference: false);
        var without = new AdaptiveDstar();
        Assert.Equal(Craft(without, honest, null, 3)[0], Craft(withReference, honest, g0, 3)[0]);
    }

    [Fact]
    public void A_validation_gradient_of_the_wrong_length_is_refused()
    {
        var (honest, _) = Round(5, 4, seed: 1);
        var e = Assert.Throws<AttackException>(() => Craft(new AdaptiveDstar(), honest, new float[3], 2));
        Assert.Contains("adaptive-dstar", e.Message);
        Assert.Contains("d = 4", e.Message);
    }
}

/// <summary>The defence-aware adaptive attack against the real filter configured with our checks.</summary>
public class AdaptiveDstarKnowsTheFilterTests
{
    [Theory]
    [InlineData("dstar direction=0 duplicates=0.05 reference=quantile", 1)]
    [InlineData("dstar direction=0.05 scale=1.5 duplicates=0.05 reference=quantile quantile=0.6", 2)]
    [InlineData("dstar center=validation reference=quantile tau=1.5 direction=0", 3)]
    [InlineData("dstar center=exclude-validation reference=median-deviation scale=2", 4)]
    [InlineData("dstar", 5)]
    public void Adaptive_rows_pass_every_check_of_the_configured_filter(string spec, int seed)
    {
        int h = 10, f = 5, d = 200;
        var rng = new Random(seed);
        var mu = Enumerable.Range(0, d).Select(_ => (float)(0.3 * Columns.Normal(rng))).ToArray();
        var honest = Columns.Gaussian(rng, h, mu, 1);
        var g0 = Columns.Gaussian(rng, 1, mu, 0.8)[0];
        var rule = Dstar.Core.Specs.Registry.Rules.Create(spec);
        var aggregation = new AggregationContext(f) { ValidationGradient = g0 };
        var attack = new AdaptiveDstar();
        var byzantine = Reference.Empty(f, d);
        attack.Craft(Reference.Batch(honest), new AttackContext(h + f, f, new Random(seed)) { Pipeline = new AggregationPipeline(rule), AggregationContext = aggregation }, byzantine);
        var all = honest.Concat(Enumerable.Range(0, f).Select(i => byzantine.Row(i).ToArray())).ToArray();
        var report = rule.Aggregate(GradientBatch.FromRows(all), aggregation, new float[d]);
        Assert.True(attack.LastScale > 0, $"γ = {attack.LastScale}");
        Assert.True(Enumerable.Range(h, f).All(report.Kept.Contains), $"kept {string.Join(",", report.Kept)}; scores {string.Join(",", report.Scores!.Select(x => x.ToString("G3")))}");
    }
}

using Dstar.Core.Attacks;
using Xunit;

namespace Dstar.Core.Tests.Attacks;

/// <summary>Fang, ROP and PoisonedFL against naive loops on random rows.</summary>
public class DefenceAwareAttackTests
{
    [Theory]
    [InlineData(1, 2.0)]
    [InlineData(2, 3.5)]
    [InlineData(3, 1.5)]
    public void Fang_draws_each_value_beyond_the_honest_extreme_opposite_the_mean(int seed, double beta)
    {
        var honest = Reference.Rows(6, 40, seed, spread: 2, offset: 0.5);
        var byzantine = Reference.Empty(3, 40);
        new Fang(beta).Craft(Reference.Batch(honest), Reference.Context(9, 3, seed), byzantine);
        var mean = Reference.Mean(honest);
        for (int j = 0; j < 40; j++)
        {
            double low = honest.Min(r => r[j]), high = honest.Max(r => r[j]);
            double from, to;
            if (mean[j] > 0)
            {
                (from, to) = low > 0 ? (low / beta, low) : (beta * low, low);
            }
            else
            {
                (from, to) = high > 0 ? (high, beta * high) : (high / beta, high);
            }

            for (int r = 0; r < 3; r++)
            {
                float v = byzantine.Row(r)[j];
                Assert.InRange(v, (float)Math.Min(from, to) - 1e-5f, (float)Math.Max(from, to) + 1e-5f);
            }
        }
    }

    [Fact]
    public void Rop_sends_the_relocated_reference_plus_an_orthogonal_step()
    {
        var honest = Reference.Rows(7, 30, 4);
        var previous = Enumerable.Range(0, 30).Select(j => (float)Math.Sin(j)).ToArray();
        var byzantine = Reference.Empty(2, 30);
        var context = new AttackContext(9, 2, new Random(1)) { AggregationContext = new AggregationContext { PreviousAggregate = previous } };
        new Rop(lambda: 0.6, scale: 1.5).Craft(Reference.Batch(honest), context, byzantine);

        var mean = Reference.Mean(honest);
        var sigma = Reference.Deviation(honest);
        var r = Enumerable.Range(0, 30).Select(j => (0.6 * previous[j]) + (0.4 * mean[j])).ToArray();
        var p = sigma.Select(v => -v).ToArray();
        double pr = p.Zip(r, (a, b) => a * b).Sum() / r.Sum(v => v * v);
        p = p.Select((v, j) => v - (pr * r[j])).ToArray();
        double norm = Math.Sqrt(p.Sum(v => v * v));
        var distances = honest.Select(x => Reference.Distance(x, r)).OrderBy(v => v).ToArray();
        double gamma = 1.5 * distances[3];
        var expected = r.Select((v, j) => v + (gamma * p[j] / norm)).ToArray();
        Reference.AssertClose(expected, byzantine.Row(0).ToArray(), 1e-4);
        Reference.AssertClose(expected, byzantine.Row(1).ToArray(), 1e-4);
        Assert.True(Math.Abs(Enumerable.Range(0, 30).Sum(j => (byzantine.Row(0)[j] - r[j]) * r[j])) < 1e-3 * gamma * Math.Sqrt(r.Sum(v => v * v)));
    }

    [Fact]
    public void Poisoned_fl_keeps_one_sign_pattern_and_lowers_its_scale_when_it_does_not_take_hold()
    {
        var attack = new PoisonedFl(lambda: 2, window: 2, decay: 0.5);
        var aggregation = new AggregationContext();
        var context = new AttackContext(9, 2, new Random(3)) { AggregationContext = aggregation };
        float[]? signs = null;
        for (int t = 0; t < 6; t++)
        {
            var honest = Reference.Rows(7, 25, 10 + t);
            var byzantine = Reference.Empty(2, 25);
            double before = attack.Scale;
            attack.Craft(Reference.Batch(honest), context, byzantine);
            signs ??= attack.Signs.ToArray();
            Assert.Equal(signs, attack.Signs.ToArray());
            var mean = Reference.Mean(honest);
            Reference.AssertClose(mean.Select((m, j) => -attack.Scale * signs[j] * Math.Abs(m)).ToArray(), byzantine.Row(1).ToArray(), 1e-4);

            // The server's aggregate moves the model against s (the attack fails): λ halves every 2 rounds.
            aggregation.PreviousAggregate = signs.Select(s => s).ToArray();
            Assert.True(attack.Scale <= before);
        }

        Assert.Equal(2 * 0.5 * 0.5 * 0.5, attack.Scale, 12); // adapted after rounds 2, 4 and 6
    }
}

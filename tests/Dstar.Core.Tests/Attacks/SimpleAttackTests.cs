using Dstar.Core.Attacks;
using Xunit;

namespace Dstar.Core.Tests.Attacks;

/// <summary>Sign flip, IPM, ALIE, Gaussian noise and non-finite rows on hand-computed examples.</summary>
public class SimpleAttackTests
{
    // Honest rows (1,2), (3,2), (2,5): μ = (2, 3), σ = (√(2/3), √2) ≈ (0.8165, 1.4142).
    private static readonly float[][] Honest = [[1f, 2f], [3f, 2f], [2f, 5f]];
    private static readonly double SigmaX = Math.Sqrt(2.0 / 3), SigmaY = Math.Sqrt(2);

    private static float[][] Craft(IAttack attack, int n, int f, float[][]? honest = null, int seed = 1)
    {
        var byzantine = Reference.Empty(f, 2);
        attack.Craft(Reference.Batch(honest ?? Honest), Reference.Context(n, f, seed), byzantine);
        return Enumerable.Range(0, f).Select(i => byzantine.Row(i).ToArray()).ToArray();
    }

    [Fact]
    public void Sign_flip_sends_minus_the_honest_mean()
    {
        foreach (var row in Craft(new SignFlip(), 5, 2))
        {
            Reference.AssertClose([-2, -3], row);
        }
    }

    [Fact]
    public void Ipm_sends_minus_epsilon_times_the_mean()
    {
        // ε = 0.1: b = −0.1·(2, 3) = (−0.2, −0.3); ε = 100: (−200, −300).
        Reference.AssertClose([-0.2, -0.3], Craft(new InnerProductManipulation(), 5, 2)[1]);
        Reference.AssertClose([-200, -300], Craft(new InnerProductManipulation(100), 5, 2)[0]);
    }

    [Fact]
    public void Alie_with_explicit_z_sends_mean_minus_z_sigma()
    {
        // z = 1.5: b = (2 − 1.5·0.8165, 3 − 1.5·1.4142) = (0.7753, 0.8787).
        Reference.AssertClose([2 - 1.5 * SigmaX, 3 - 1.5 * SigmaY], Craft(new Alie(1.5), 5, 2)[0]);
    }

    [Fact]
    public void Alie_uses_the_paper_z_from_n_and_f()
    {
        // n = 5, f = 2: s = ⌊5/2 + 1⌋ − 2 = 1, z = Φ⁻¹((5 − 1)/5) = Φ⁻¹(0.8) = 0.8416212335729143.
        const double z = 0.8416212335729143;
        Assert.True(Math.Abs(Alie.PaperZ(5, 2) - z) < 1e-8);
        var rows = Craft(new Alie(), 5, 2);
        Reference.AssertClose([2 - z * SigmaX, 3 - z * SigmaY], rows[0]);
        Assert.Equal(rows[0], rows[1]);
    }

    [Fact]
    public void Alie_z_for_twenty_workers_and_eight_byzantine_is_about_1_036()
    {
        // s = ⌊20/2 + 1⌋ − 8 = 3, z = Φ⁻¹(17/20) = Φ⁻¹(0.85) = 1.0364 (docs/method.md gives z ≈ 1.036).
        Assert.True(Math.Abs(Alie.PaperZ(20, 8) - 1.0364333894937898) < 1e-8);
    }

    [Fact]
    public void Alie_refuses_n_and_f_where_z_is_infinite()
    {
        // n = 10, f = 6: s = 6 − 6 = 0, so (n − s)/n = 1 and Φ⁻¹ is +∞.
        var e = Assert.Throws<AttackException>(() => Craft(new Alie(), 10, 6));
        Assert.Contains("alie", e.Message);
        Assert.Contains("s = ⌊n/2+1⌋ − f = 0", e.Message);
        // An explicit z works for the same n, f.
        Assert.Equal(6, Craft(new Alie(0.5), 10, 6).Length);
    }

    [Fact]
    public void Gaussian_rows_are_independent_seeded_and_have_the_requested_spread()
    {
        var attack = new GaussianNoise(sigma: 3);
        var honest = Reference.Batch(Reference.Rows(4, 50_000, seed: 2));
        GradientBatch Draw(int seed)
        {
            var byzantine = Reference.Empty(2, 50_000);
            attack.Craft(honest, Reference.Context(6, 2, seed), byzantine);
            return byzantine;
        }

        var first = Draw(7);
        Assert.Equal(first.AsSpan().ToArray(), Draw(7).AsSpan().ToArray());
        Assert.NotEqual(first.AsSpan().ToArray(), Draw(8).AsSpan().ToArray());
        Assert.NotEqual(first.Row(0).ToArray(), first.Row(1).ToArray());
        foreach (var row in new[] { first.Row(0).ToArray(), first.Row(1).ToArray() })
        {
            double mean = row.Average(v => (double)v);
            double deviation = Math.Sqrt(row.Average(v => (v - mean) * (v - mean)));
            Assert.InRange(mean, -0.05, 0.05);
            Assert.InRange(deviation, 3 * 0.98, 3 * 1.02);
        }
    }

    [Theory]
    [InlineData(NonFiniteKind.NotANumber)]
    [InlineData(NonFiniteKind.Infinity)]
    [InlineData(NonFiniteKind.Huge)]
    public void Non_finite_attack_writes_its_value_everywhere(NonFiniteKind kind)
    {
        var attack = new NonFiniteValues(kind);
        var rows = Craft(attack, 5, 2);
        float expected = kind switch
        {
            NonFiniteKind.NotANumber => float.NaN,
            NonFiniteKind.Infinity => float.PositiveInfinity,
            _ => float.MaxValue,
        };
        Assert.All(rows.SelectMany(r => r), v => Assert.Equal(expected, v));
        Assert.False(attack.IsOmniscient);
    }

    [Fact]
    public void Non_omniscient_attacks_need_no_honest_rows()
    {
        var empty = new GradientBatch(1, 2) { Count = 0 };
        var byzantine = Reference.Empty(2, 2);
        new GaussianNoise().Craft(empty, Reference.Context(2, 2), byzantine);
        new NonFiniteValues().Craft(empty, Reference.Context(2, 2), byzantine);
        Assert.True(float.IsNaN(byzantine.Row(1)[1]));
    }

    [Fact]
    public void Attacks_refuse_rows_of_different_dimension()
    {
        var e = Assert.Throws<AttackException>(() =>
            new SignFlip().Craft(Reference.Batch(Honest), Reference.Context(5, 2), Reference.Empty(2, 3)));
        Assert.Contains("sign-flip", e.Message);
        Assert.Contains("d = 3", e.Message);
    }

    [Fact]
    public void Attacks_leave_the_honest_rows_unchanged()
    {
        var honest = Reference.Batch(Honest);
        var before = honest.AsSpan().ToArray();
        foreach (var attack in new IAttack[] { new SignFlip(), new InnerProductManipulation(), new Alie(), new Mimic(), new MinMax(), new MinSum(), new AdaptiveDstar() })
        {
            attack.Craft(honest, Reference.Context(5, 2), Reference.Empty(2, 2));
            Assert.Equal(before, honest.AsSpan().ToArray());
        }
    }
}

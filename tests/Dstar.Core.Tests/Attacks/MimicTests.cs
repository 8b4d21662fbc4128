using Dstar.Core.Attacks;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Attacks;

public class MimicTests
{
    private static (int Chosen, float[][] Rows) Craft(float[][] honest, int seed = 3)
    {
        var attack = new Mimic();
        var byzantine = Reference.Empty(2, honest[0].Length);
        attack.Craft(Reference.Batch(honest), Reference.Context(honest.Length + 2, 2, seed), byzantine);
        return (attack.LastChosen, [byzantine.Row(0).ToArray(), byzantine.Row(1).ToArray()]);
    }

    [Fact]
    public void Mimic_picks_the_row_farthest_along_the_main_axis_by_hand()
    {
        // Rows spread along x: μ = (2.5, 0.025). Centred x-coordinates −2.5, −1.5, −3.5, 7.5, so the top principal
        // direction is ≈ (1, 0) and row 3 contributes the most variance along it.
        float[][] honest = [[0f, 0f], [1f, 0f], [-1f, 0f], [10f, 0.1f]];
        var (chosen, rows) = Craft(honest);
        Assert.Equal(3, chosen);
        Assert.Equal(honest[3], rows[0]);
        Assert.Equal(honest[3], rows[1]);
    }

    [Property(MaxTest = 40)]
    public Property Mimic_sends_a_real_honest_row_matching_a_covariance_reference(PositiveInt rows, PositiveInt cols, int seed)
    {
        int n = rows.Get % 12 + 2, d = cols.Get % 6 + 2;
        // Rows with a clear main axis u (spread 5) over small noise (spread 0.3), so the top eigenvector is well separated.
        var rng = new Random(seed);
        var axis = Enumerable.Range(0, d).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double norm = Math.Sqrt(axis.Sum(v => v * v));
        var honest = Enumerable.Range(0, n).Select(_ =>
        {
            double t = 5 * (rng.NextDouble() * 2 - 1);
            return axis.Select(a => (float)(1 + t * a / norm + 0.3 * (rng.NextDouble() * 2 - 1))).ToArray();
        }).ToArray();

        var (chosen, sent) = Craft(honest, seed);

        // Reference: the d×d covariance, its top eigenvector by many power steps in double, then argmax |⟨xᵢ − μ, v⟩|.
        var mean = Reference.Mean(honest);
        var covariance = new double[d, d];
        foreach (var x in honest)
        {
            for (int a = 0; a < d; a++)
            {
                for (int b = 0; b < d; b++)
                {
                    covariance[a, b] += (x[a] - mean[a]) * (x[b] - mean[b]);
                }
            }
        }

        var v = Enumerable.Repeat(1.0, d).ToArray();
        for (int step = 0; step < 2000; step++)
        {
            var next = new double[d];
            for (int a = 0; a < d; a++)
            {
                for (int b = 0; b < d; b++)
                {
                    next[a] += covariance[a, b] * v[b];
                }
            }

            double length = Math.Sqrt(next.Sum(x => x * x));
            v = next.Select(x => x / length).ToArray();
        }

        var projections = honest.Select(x => Math.Abs(x.Select((value, j) => (value - mean[j]) * v[j]).Sum())).ToArray();
        int expected = Array.IndexOf(projections, projections.Max());
        bool clearWinner = projections.Count(p => p > projections.Max() * 0.999) == 1;
        bool real = honest.Any(x => x.SequenceEqual(sent[0])) && sent[0].SequenceEqual(sent[1]);
        return (real && (!clearWinner || chosen == expected)).Label($"chose {chosen}, reference {expected}");
    }

    [Fact]
    public void Mimic_is_deterministic_given_the_seed()
    {
        var honest = Reference.Rows(9, 40, seed: 11);
        Assert.Equal(Craft(honest, 4).Chosen, Craft(honest, 4).Chosen);
    }

    [Fact]
    public void Identical_rows_send_the_first()
    {
        float[][] honest = [[2f, 2f], [2f, 2f], [2f, 2f]];
        Assert.Equal(0, Craft(honest).Chosen);
    }
}

using Dstar.Core.Attacks;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Attacks;

public class MinMaxMinSumTests
{
    private static (float[] Row, double Scale) Craft(IAttack attack, float[][] honest)
    {
        var byzantine = Reference.Empty(3, honest[0].Length);
        attack.Craft(Reference.Batch(honest), Reference.Context(honest.Length + 3, 3), byzantine);
        Assert.Equal(byzantine.Row(0).ToArray(), byzantine.Row(2).ToArray());
        double scale = attack switch
        {
            MinMax m => m.LastScale,
            MinSum s => s.LastScale,
            _ => throw new InvalidOperationException(),
        };
        return (byzantine.Row(0).ToArray(), scale);
    }

    private static double MaxDistance(float[][] honest, IReadOnlyList<double> b) =>
        honest.Max(x => Distance(x, b));

    private static double SumSquared(float[][] honest, IReadOnlyList<double> b) =>
        honest.Sum(x => Distance(x, b) * Distance(x, b));

    private static double Distance(float[] x, IReadOnlyList<double> b) =>
        Math.Sqrt(x.Select((v, j) => (v - b[j]) * (v - b[j])).Sum());

    private static double Radius(float[][] honest) =>
        honest.Max(x => honest.Max(y => Reference.Distance(x, y)));

    private static double SumBudget(float[][] honest) =>
        honest.Max(x => honest.Sum(y => Reference.Distance(x, y) * Reference.Distance(x, y)));

    private static double[] Direction(float[][] honest, PerturbationDirection direction)
    {
        var mean = Reference.Mean(honest);
        return direction switch
        {
            PerturbationDirection.StandardDeviation => Reference.Deviation(honest).Select(s => -s).ToArray(),
            PerturbationDirection.UnitMean => mean.Select(m => -m / Math.Sqrt(mean.Sum(v => v * v))).ToArray(),
            _ => mean.Select(m => (double)-Math.Sign(m)).ToArray(),
        };
    }

    private static double[] At(float[][] honest, PerturbationDirection direction, double scale)
    {
        var mean = Reference.Mean(honest);
        var p = Direction(honest, direction);
        return mean.Select((m, j) => m + scale * p[j]).ToArray();
    }

    [Fact]
    public void Min_max_on_two_rows_by_hand()
    {
        // Rows (1,0), (3,0): μ = (2,0), σ = (1,0), p = (−1,0), b = (2 − γ, 0). The honest diameter is 2 and b's
        // farthest honest row is (3,0) at distance 1 + γ, so γ = 1 and b = (1, 0). Min-Sum: Σ‖b − xᵢ‖² = (γ−1)² + (γ+1)²
        // = 2γ² + 2 ≤ maxᵢ Σⱼ‖xᵢ − xⱼ‖² = 4 also gives γ = 1.
        float[][] honest = [[1f, 0f], [3f, 0f]];
        var (row, scale) = Craft(new MinMax(), honest);
        Assert.Equal(1, scale, 6);
        Reference.AssertClose([1, 0], row);
        (row, scale) = Craft(new MinSum(), honest);
        Assert.Equal(1, scale, 6);
        Reference.AssertClose([1, 0], row);
    }

    [Property(MaxTest = 40)]
    public Property Min_max_stays_within_the_honest_diameter_and_gamma_is_maximal(PositiveInt rows, PositiveInt cols, int seed, byte which)
    {
        int n = rows.Get % 10 + 2, d = cols.Get % 30 + 1;
        var direction = (PerturbationDirection)(which % 3);
        var honest = Reference.Rows(n, d, seed);
        var (row, scale) = Craft(new MinMax(direction), honest);
        double radius = Radius(honest);
        var b = At(honest, direction, scale);
        Reference.AssertClose(b, row, 1e-4);

        // Reference: ‖μ + γp − xᵢ‖² = R² is a quadratic in γ for each i; the largest admissible γ is the smallest
        // positive root over i.
        var mean = Reference.Mean(honest);
        var p = Direction(honest, direction);
        double pp = p.Sum(v => v * v);
        double expected = honest.Min(x =>
        {
            double a = x.Select((v, j) => (mean[j] - v) * (mean[j] - v)).Sum();
            double c = x.Select((v, j) => (mean[j] - v) * p[j]).Sum();
            return (-c + Math.Sqrt(c * c - pp * (a - radius * radius))) / pp;
        });

        bool holds = MaxDistance(honest, b) <= radius * (1 + 1e-5);
        bool maximal = MaxDistance(honest, At(honest, direction, scale * 1.001 + 1e-9)) > radius;
        bool matches = Math.Abs(scale - expected) <= 1e-4 * (1 + expected);
        return (holds && maximal && matches).Label($"γ = {scale}, expected {expected}, holds {holds}, maximal {maximal}");
    }

    [Property(MaxTest = 40)]
    public Property Min_sum_stays_within_the_honest_budget_and_gamma_is_maximal(PositiveInt rows, PositiveInt cols, int seed, byte which)
    {
        int n = rows.Get % 10 + 2, d = cols.Get % 30 + 1;
        var direction = (PerturbationDirection)(which % 3);
        var honest = Reference.Rows(n, d, seed);
        var (row, scale) = Craft(new MinSum(direction), honest);
        double budget = SumBudget(honest);
        var b = At(honest, direction, scale);
        Reference.AssertClose(b, row, 1e-4);

        // Reference: Σᵢ‖μ − xᵢ + γp‖² = Σᵢ‖μ − xᵢ‖² + n·γ²‖p‖² (the cross terms sum to zero), so γ has a closed form.
        var mean = Reference.Mean(honest);
        var p = Direction(honest, direction);
        double spread = honest.Sum(x => x.Select((v, j) => (mean[j] - v) * (mean[j] - v)).Sum());
        double expected = Math.Sqrt((budget - spread) / (n * p.Sum(v => v * v)));

        bool holds = SumSquared(honest, b) <= budget * (1 + 1e-5);
        bool maximal = SumSquared(honest, At(honest, direction, scale * 1.001 + 1e-9)) > budget;
        bool matches = Math.Abs(scale - expected) <= 1e-4 * (1 + expected);
        return (holds && maximal && matches).Label($"γ = {scale}, expected {expected}, holds {holds}, maximal {maximal}");
    }

    [Fact]
    public void One_honest_row_leaves_nothing_to_hide_in_so_both_send_it()
    {
        float[][] honest = [[4f, -1f]];
        Reference.AssertClose([4, -1], Craft(new MinMax(), honest).Row);
        Reference.AssertClose([4, -1], Craft(new MinSum(), honest).Row);
    }

    [Fact]
    public void A_zero_direction_sends_the_mean()
    {
        // Mean (0, 0): p = −μ/‖μ‖ and −sign(μ) are both zero, so b = μ.
        float[][] honest = [[1f, -1f], [-1f, 1f]];
        Reference.AssertClose([0, 0], Craft(new MinMax(PerturbationDirection.UnitMean), honest).Row);
        Reference.AssertClose([0, 0], Craft(new MinSum(PerturbationDirection.Sign), honest).Row);
    }
}

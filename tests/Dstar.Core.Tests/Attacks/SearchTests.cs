using Dstar.Core.Attacks;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Attacks;

/// <summary>The line search of the optimal attacks and the bisection of Min-Max, Min-Sum and adaptive-dstar.</summary>
public class SearchTests
{
    private sealed class Counted(Func<double, double> function) : IScalarObjective
    {
        public int Calls { get; private set; }

        public double Evaluate(double x)
        {
            Calls++;
            return function(x);
        }
    }

    private sealed class Threshold(double limit) : IScaleCondition
    {
        public bool Holds(double scale) => scale <= limit;
    }

    [Property(MaxTest = 100)]
    public Property Line_search_finds_the_peak_of_a_unimodal_function_with_exactly_grid_plus_refine_evaluations(NormalFloat peak)
    {
        double center = Math.Abs(peak.Get) % 10;
        var objective = new Counted(x => -(x - center) * (x - center));
        var (best, value) = LineSearch.Maximise(objective, 0, 10, grid: 21, refine: 30, logarithmic: false);
        return (Math.Abs(best - center) < 1e-4 && objective.Calls == 51 && value == -(best - center) * (best - center))
            .Label($"peak {center}, found {best} in {objective.Calls} calls");
    }

    [Fact]
    public void Logarithmic_line_search_refines_in_log_space()
    {
        // Peak at x = 3 of −(ln x − ln 3)²; the grid over [0.01, 100] is geometric.
        var objective = new Counted(x => -Math.Pow(Math.Log(x) - Math.Log(3), 2));
        var (best, _) = LineSearch.Maximise(objective, 0.01, 100, grid: 25, refine: 40, logarithmic: true);
        Assert.InRange(best, 3 * (1 - 1e-4), 3 * (1 + 1e-4));
    }

    [Fact]
    public void Line_search_treats_nan_as_worst_and_keeps_the_first_of_ties()
    {
        var nan = new Counted(x => x < 5 ? double.NaN : 1);
        Assert.Equal(5, LineSearch.Maximise(nan, 0, 10, grid: 11, refine: 0, logarithmic: false).Best);
        var flat = new Counted(_ => 2);
        Assert.Equal(0, LineSearch.Maximise(flat, 0, 10, grid: 11, refine: 5, logarithmic: false).Best);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-7)]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(12345.678)]
    public void Bisection_finds_the_largest_passing_scale(double limit)
    {
        double found = Bisection.Largest(new Threshold(limit));
        Assert.True(found <= limit && found >= limit * (1 - 1e-9) - 1e-300, $"limit {limit}, found {found}");
    }

    [Fact]
    public void Bisection_returns_zero_when_nothing_passes()
    {
        Assert.Equal(0, Bisection.Largest(new Threshold(-1)));
    }
}

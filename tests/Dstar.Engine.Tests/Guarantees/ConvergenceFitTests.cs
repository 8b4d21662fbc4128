using Dstar.Engine.Guarantees;
using Xunit;

namespace Dstar.Engine.Tests.Guarantees;

/// <summary>The convergence fit on curves whose rate, floor and divergence are known.</summary>
public class ConvergenceFitTests
{
    [Theory]
    [InlineData(0.9, 1e-3)]
    [InlineData(0.95, 1e-2)]
    public void Fit_recovers_the_rate_and_floor_of_a_geometric_curve(double rate, double floor)
    {
        var random = new Random(3);
        var curve = Enumerable.Range(0, 300).Select(t => (3 * Math.Pow(rate, t)) + (floor * (1 + (0.1 * (random.NextDouble() - 0.5))))).ToArray();

        var fit = ConvergenceFit.Fit(curve);

        Assert.Equal(rate, fit.Rate!.Value, 2);
        Assert.Equal(floor, fit.Floor, floor * 0.1);
        Assert.Null(fit.DivergesAt);
        int expected = (int)Math.Ceiling(Math.Log(floor / 3) / Math.Log(rate));
        Assert.InRange(fit.FlattensAt!.Value, expected - 2, expected + 2);
        Assert.Equal(1, fit.TailRate!.Value, 2);
    }

    [Fact]
    public void The_tail_rate_is_the_slow_mode_of_a_two_speed_curve()
    {
        // A fast mode (0.8) dies out early; the second half follows the slow one (0.99).
        var curve = Enumerable.Range(0, 200).Select(t => (3 * Math.Pow(0.8, t)) + (0.5 * Math.Pow(0.99, t))).ToArray();
        Assert.Equal(0.99, ConvergenceFit.Fit(curve).TailRate!.Value, 3);
    }

    [Fact]
    public void A_growing_curve_diverges_and_has_no_rate()
    {
        var curve = Enumerable.Range(0, 50).Select(t => Math.Pow(1.3, t)).ToArray();
        var fit = ConvergenceFit.Fit(curve);
        Assert.Null(fit.Rate);
        Assert.Equal(9, fit.DivergesAt);
        Assert.True(double.IsNaN(fit.Floor));
    }

    [Fact]
    public void A_run_stopped_early_counts_as_diverged_at_its_stop()
    {
        var fit = ConvergenceFit.Fit([1.0, 0.9, 0.8], stoppedAt: 2);
        Assert.Equal(2, fit.DivergesAt);
    }

    [Fact]
    public void Hessian_of_ridge_regression_gives_the_mean_contraction_factor()
    {
        // F(θ) = ½‖θ‖²·c has Hessian c·I: every eigenvalue is c, and gradient descent contracts by |1 − ηc|.
        using var oracle = new QuadraticOracle(4, 2.5);
        var eigenvalues = Curvature.HessianEigenvalues(oracle, [0, 1, 2], new float[] { 1, -2, 0.5f, 3 });
        Assert.All(eigenvalues, l => Assert.Equal(2.5, l, 3));
        Assert.Equal(0.75, Curvature.ContractionFactor(eigenvalues, 0.1), 3);
    }

    private sealed class QuadraticOracle(int d, double curvature) : Dstar.Learning.IGradientOracle
    {
        private readonly float[] _x = new float[d];

        public int ParameterCount => d;

        public void SetParameters(ReadOnlySpan<float> parameters) => parameters.CopyTo(_x);

        public void GetParameters(Span<float> destination) => _x.CopyTo(destination);

        public double ComputeGradient(ReadOnlySpan<int> sampleIndices, Span<float> gradient, bool flipLabels = false)
        {
            for (int j = 0; j < d; j++)
            {
                gradient[j] = (float)(curvature * _x[j]);
            }

            return 0;
        }

        public double Loss(ReadOnlySpan<int> sampleIndices) => 0;

        public Dstar.Learning.Evaluation Evaluate() => new(double.NaN, 0);

        public void Dispose()
        {
        }
    }
}

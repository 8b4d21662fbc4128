using Dstar.Core.Kernels;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

public class StudentTTests
{
    // Tables of Student's t (to the digits they print), and the closed forms for one and two degrees of freedom.
    [Theory]
    [InlineData(0.975, 3, 3.182446305284263)]
    [InlineData(0.975, 4, 2.776445105197799)]
    [InlineData(0.975, 10, 2.228138851986274)]
    [InlineData(0.975, 11, 2.200985160082949)]
    [InlineData(0.975, 30, 2.042272456301238)]
    [InlineData(0.995, 3, 5.840909309733351)]
    [InlineData(0.995, 20, 2.845339709785564)]
    [InlineData(0.95, 7, 1.894578605061305)]
    public void Quantile_matches_tables(double p, int degrees, double expected) =>
        Assert.True(Math.Abs(StudentT.Quantile(p, degrees) - expected) < 1e-9 * expected, $"t({p}, {degrees}) = {StudentT.Quantile(p, degrees):R}, expected {expected:R}");

    [Theory]
    [InlineData(0.975)]
    [InlineData(0.9)]
    [InlineData(0.6)]
    public void Quantile_matches_the_closed_forms_for_one_and_two_degrees(double p)
    {
        Assert.Equal(Math.Tan(Math.PI * (p - 0.5)), StudentT.Quantile(p, 1), 1e-9);
        Assert.Equal((2 * p - 1) / Math.Sqrt(2 * p * (1 - p)), StudentT.Quantile(p, 2), 1e-9);
    }

    [Fact]
    public void Quantile_is_symmetric_falls_with_the_degrees_and_tends_to_the_normal()
    {
        double previous = double.PositiveInfinity;
        foreach (var degrees in new[] { 1, 2, 3, 5, 8, 13, 50, 200, 1000 })
        {
            double t = StudentT.Quantile(0.975, degrees);
            Assert.Equal(-t, StudentT.Quantile(0.025, degrees), 1e-9);
            Assert.True(t < previous && t > StandardNormal.Quantile(0.975), $"ν = {degrees}: {t}");
            previous = t;
        }

        // t = z + (z³ + z)/(4ν) + O(1/ν²) (Abramowitz and Stegun 26.7.5).
        double z = StandardNormal.Quantile(0.975);
        Assert.Equal(z + (z * z * z + z) / (4 * 20000), StudentT.Quantile(0.975, 20000), 1e-7);
        Assert.Equal(0, StudentT.Quantile(0.5, 9), 1e-12);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(double.NaN, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile(0.9, 0));
    }
}

using Dstar.Core.Kernels;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

public class NonFiniteTests
{
    [Theory]
    [InlineData(0, float.NaN)]
    [InlineData(36, float.PositiveInfinity)]
    [InlineData(70, float.NegativeInfinity)]
    [InlineData(-1, 0f)]
    public void One_non_finite_value_anywhere_is_found_and_copying_keeps_every_value(int at, float bad)
    {
        var values = Enumerable.Range(0, 71).Select(i => (i - 35) * 1e30f).ToArray();
        if (at >= 0)
        {
            values[at] = bad;
        }

        var copy = new float[values.Length];
        Assert.Equal(at < 0, NonFinite.AllFinite(values));
        Assert.Equal(at < 0, NonFinite.CopyAndCheck(values, copy));
        Assert.Equal(values, copy);
        Assert.True(NonFinite.AllFinite(ReadOnlySpan<float>.Empty));
        Assert.Throws<ArgumentException>(() => NonFinite.CopyAndCheck(values, new float[3]));
    }
}

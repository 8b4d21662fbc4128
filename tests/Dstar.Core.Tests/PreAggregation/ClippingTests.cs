using Dstar.Core.PreAggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.PreAggregation;

public class ClippingTests
{
    [Property(MaxTest = 40)]
    public Property Clip_scales_long_rows_to_c_and_leaves_short_rows(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        var data = Columns.Grid(rng, n, d);
        double c = rng.NextDouble() * 200 + 0.1;
        var result = Registry.PreAggregators.Create($"clip c={c}").Apply(GradientBatch.FromRows(data), new AggregationContext());
        bool ok = true;
        for (int i = 0; i < n; i++)
        {
            double norm = Math.Sqrt(data[i].Sum(x => (double)x * x));
            double scale = norm > c ? c / norm : 1;
            ok &= Columns.AllClose(result.Row(i).ToArray(), j => data[i][j] * scale);
        }

        return ok.ToProperty();
    }

    [Fact]
    public void Clip_scales_huge_rows_down_instead_of_zeroing_them()
    {
        var batch = GradientBatch.FromRows([[3e30f, 4e30f], [float.NaN, 1f]]);
        new Clipping(5).Apply(batch, new AggregationContext());
        Assert.Equal(3f, batch.Row(0)[0], 4);
        Assert.Equal(4f, batch.Row(0)[1], 4);
        Assert.True(float.IsNaN(batch.Row(1)[0]));
    }

    [Fact]
    public void Clip_spec_refuses_a_non_positive_threshold()
    {
        var error = Assert.Throws<SpecException>(() => Registry.PreAggregators.Create("clip c=0"));
        Assert.Contains("c=0", error.Message);
    }
}

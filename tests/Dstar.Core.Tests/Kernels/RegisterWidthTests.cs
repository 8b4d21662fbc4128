using Dstar.Core.Kernels;
using Xunit;

namespace Dstar.Core.Tests.Kernels;

/// <summary>
/// The column kernels at every register width the driver can pick (AVX-512, AVX2, scalar), each against naive
/// references: what machines without AVX-512 run.
/// </summary>
[Collection(nameof(KernelSettingsCollection))]
public class RegisterWidthTests
{
    [Theory]
    [InlineData(16, true)]
    [InlineData(16, false)]
    [InlineData(8, true)]
    [InlineData(1, true)]
    public void Every_register_width_gives_the_naive_results(int width, bool compiled)
    {
        // compiled = false: AVX-512 registers without the compiled ranges (the generic kernels at full width).
        using (KernelSettings.Override(widthLimit: width, unrolledNetworks: compiled ? null : false))
        {
            var rng = new Random(width);
            foreach (var (n, d) in new[] { (1, 5), (7, 37), (16, 100), (21, 17), (64, 33) })
            {
                var data = Columns.Grid(rng, n, d);
                var batch = GradientBatch.FromRows(data);
                var rows = RowPointers.All(n);
                var output = new float[d];
                int f = (n - 1) / 2;
                Assert.True(CoordinateSelection.Median(batch, rows, output));
                Assert.True(Columns.AllClose(output, j => Columns.MedianOf(Columns.Column(data, j))));
                Assert.True(CoordinateSelection.TrimmedMean(batch, rows, f, output));
                Assert.True(Columns.AllClose(output, j => Columns.TrimmedMeanOf(Columns.Column(data, j), f)));
                Assert.True(CoordinateSelection.MeanClosestToMedian(batch, rows, n - f, output));
                Assert.True(Columns.AllClose(output, j => Columns.MeamedOf(Columns.Column(data, j), n - f)));
                Assert.True(RowMeans.Mean(batch, rows, default, output));
                Assert.True(Columns.AllClose(output, j => Columns.Column(data, j).Average()));

                // dSTAR's first pass (centre = median of the rows and g₀, not written out) and centered clipping's step.
                var g0 = Columns.Grid(rng, 1, d)[0];
                var squared = new double[n + 1];
                Assert.True(RowDeviations.Squared(batch, rows, g0, CenterMode.Median, squared, default, centerRows: n + 1));
                var center = Enumerable.Range(0, d).Select(j => Columns.MedianOf([.. Columns.Column(data, j), g0[j]])).ToArray();
                for (int i = 0; i <= n; i++)
                {
                    var row = i < n ? data[i] : g0;
                    double expected = Enumerable.Range(0, d).Sum(j => (row[j] - center[j]) * (row[j] - center[j]));
                    Assert.Equal(expected, squared[i], 1e-6 * (1 + expected));
                }

                var weights = Enumerable.Range(0, n).Select(i => (i + 1) / 64f).ToArray();
                RowMeans.Step(batch, rows, weights, g0, output);
                Assert.True(Columns.AllClose(output, j => g0[j] + Enumerable.Range(0, n).Sum(i => weights[i] * ((double)data[i][j] - g0[j])), 1e-4));

                // dSTAR's screen (squared norms and dot products with g₀ in one pass) and its weighted mean with g₀ as
                // one more weighted row.
                var dots = new double[n];
                Assert.True(RowDeviations.NormsAndDots(batch, rows, g0, squared, dots));
                for (int i = 0; i < n; i++)
                {
                    double norm = Enumerable.Range(0, d).Sum(j => (double)data[i][j] * data[i][j]);
                    double dot = Enumerable.Range(0, d).Sum(j => (double)data[i][j] * g0[j]);
                    Assert.Equal(norm, squared[i], 1e-6 * (1 + norm));
                    Assert.Equal(dot, dots[i], 1e-6 * (1 + Math.Sqrt(norm * g0.Sum(v => (double)v * v))));
                }

                var factors = Enumerable.Range(0, n).Select(i => (i % 3) / 8.0).ToArray();
                WeightedRowSums.WeightedSum(batch, rows, factors, output, g0, 0.25);
                Assert.True(Columns.AllClose(output, j => 0.25 * g0[j] + Enumerable.Range(0, n).Sum(i => factors[i] * data[i][j]), 1e-4));
            }
        }
    }
}

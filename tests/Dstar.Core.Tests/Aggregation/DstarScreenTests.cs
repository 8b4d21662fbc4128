using Dstar.Core.Aggregation;
using Dstar.Core.Kernels;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests.Aggregation;

/// <summary>dSTAR's screen (norms and dot products with g₀, near-duplicate groups) against plain loops in double.</summary>
public class DstarScreenTests
{
    private const int Wide = StreamGroups.TileColumns + 4_321;

    private static double SquaredNorm(float[] x) => x.Sum(v => (double)v * v);

    private static double Dot(float[] x, float[] y) => x.Zip(y, (a, b) => (double)a * b).Sum();

    private static double Distance(float[] x, float[] y) => Math.Sqrt(x.Zip(y, (a, b) => ((double)a - b) * ((double)a - b)).Sum());

    [Theory]
    [InlineData(1, 7, 1, true)]
    [InlineData(13, 301, 1, true)]
    [InlineData(17, 999, 1, false)]
    [InlineData(24, 40_000, 2, true)]
    [InlineData(40, Wide, 2, true)]
    public void Measure_gives_double_norms_and_dots_and_nan_for_non_finite_rows(int n, int d, int threads, bool withValidation)
    {
        var rng = new Random(n * 31 + d);
        var data = Columns.Grid(rng, n, d);
        var g0 = Columns.Grid(rng, 1, d)[0];
        // Rows that break the float sums: NaN, −∞, a few values whose squares overflow float, and a whole row of 1e19
        // (each square fits in float, their sum does not).
        var planted = new List<int>();
        void Plant(Action<float[]> change)
        {
            int i = rng.Next(n);
            if (!planted.Contains(i))
            {
                planted.Add(i);
                change(data[i]);
            }
        }

        Plant(r => r[rng.Next(d)] = float.NaN);
        Plant(r => r[rng.Next(d)] = float.NegativeInfinity);
        Plant(r =>
        {
            for (int k = 0; k < 3; k++)
            {
                r[rng.Next(d)] = k % 2 == 0 ? 3e20f : -3e20f;
            }
        });
        Plant(r => Array.Fill(r, 1e19f));
        var rows = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take(1 + rng.Next(n)).ToArray();
        var norms = Enumerable.Repeat(-1.0, n).ToArray();
        var dots = Enumerable.Repeat(-1.0, n).ToArray();
        DstarScreen.Measure(GradientBatch.FromRows(data), rows, withValidation ? g0 : default, norms, dots, threads);
        double g0Norm = Math.Sqrt(SquaredNorm(g0));
        for (int i = 0; i < n; i++)
        {
            if (!rows.Contains(i))
            {
                Assert.Equal((-1.0, -1.0), (norms[i], dots[i])); // rows not listed are left alone
                continue;
            }

            if (data[i].Any(v => !float.IsFinite(v)))
            {
                Assert.True(double.IsNaN(norms[i]) && double.IsNaN(dots[i]), $"row {i}");
                continue;
            }

            double norm = Math.Sqrt(SquaredNorm(data[i]));
            double dot = withValidation ? Dot(data[i], g0) : 0;
            Assert.True(Math.Abs(norms[i] - norm) <= 1e-6 * norm, $"row {i}: norm {norms[i]} against {norm}");
            Assert.True(Math.Abs(dots[i] - dot) <= 1e-6 * (1 + norm * g0Norm), $"row {i}: dot {dots[i]} against {dot}");
        }
    }

    /// <summary>The greedy grouping of docs/method.md in double: a row joins the first earlier leader within ε·min(norms).</summary>
    private static int[] NaiveGroups(float[][] data, IReadOnlyList<int> rows, double epsilon)
    {
        var representative = new int[rows.Count];
        var leaders = new List<int>();
        for (int a = 0; a < rows.Count; a++)
        {
            int i = rows[a];
            int leader = leaders.FirstOrDefault(l => Distance(data[i], data[l]) <= epsilon * Math.Min(Math.Sqrt(SquaredNorm(data[i])), Math.Sqrt(SquaredNorm(data[l]))), -1);
            if (leader < 0)
            {
                leaders.Add(i);
                representative[a] = i;
            }
            else
            {
                representative[a] = leader;
            }
        }

        return representative;
    }

    [Property(MaxTest = 60)]
    public Property Groups_equal_the_naive_greedy_grouping(int a, int b, int seed)
    {
        int n = Math.Abs(a % 24) + 2, d = Math.Abs(b % 5000) + 1;
        var rng = new Random(seed);
        double epsilon = new[] { 0.01, 0.05, 0.2 }[rng.Next(3)];
        double scale = rng.Next(4) == 0 ? 1e25 : 1; // huge rows: chunk sums of near copies overflow float (the exact path)
        var data = new float[n][];
        for (int i = 0; i < n; i++)
        {
            var fresh = Enumerable.Range(0, d).Select(_ => (float)(scale * Columns.Normal(rng))).ToArray();
            if (i == 0 || rng.Next(2) == 0)
            {
                data[i] = fresh;
                continue;
            }

            // A copy of an earlier row: exact, a little noise (far inside ε), or equal on a long prefix and then
            // independent (far outside ε, found only past the first chunks).
            var source = data[rng.Next(i)];
            data[i] = rng.Next(3) switch
            {
                0 => (float[])source.Clone(),
                1 => source.Select(v => (float)(v + (epsilon * 1e-3 * scale * Columns.Normal(rng)))).ToArray(),
                _ => source.Select((v, j) => j < d * 4 / 5 ? v : fresh[j]).ToArray(),
            };
        }

        var batch = GradientBatch.FromRows(data);
        var g0 = Enumerable.Range(0, d).Select(_ => (float)Columns.Normal(rng)).ToArray();
        var rows = Enumerable.Range(0, n).Where(_ => rng.Next(5) != 0).ToList();
        var norms = data.Select(r => Math.Sqrt(SquaredNorm(r))).ToArray();
        var dots = data.Select(r => Dot(r, g0)).ToArray();
        var actual = DstarScreen.Groups(batch, rows, norms, dots, Math.Sqrt(SquaredNorm(g0)), epsilon);
        var expected = NaiveGroups(data, rows, epsilon);
        return actual.SequenceEqual(expected).Label($"n = {n}, d = {d}, ε = {epsilon}, scale {scale}: {string.Join(',', actual)} vs {string.Join(',', expected)}");
    }

    [Property(MaxTest = 100)]
    public Property Within_decides_the_distance_bound_as_double_sums_do(int a, int seed)
    {
        int d = Math.Abs(a % 9000) + 1;
        var rng = new Random(seed);
        double scale = rng.Next(3) == 0 ? 1e22 : 1;
        var x = Enumerable.Range(0, d).Select(_ => (float)(scale * Columns.Normal(rng))).ToArray();
        // y differs from x by noise of a random size, on all columns or only on a late stretch.
        int from = rng.Next(2) == 0 ? 0 : rng.Next(d);
        double noise = scale * Math.Pow(10, -rng.Next(5));
        var y = x.Select((v, j) => j < from ? v : (float)(v + (noise * Columns.Normal(rng)))).ToArray();
        double distance = Distance(x, y);
        double bound = distance * (rng.Next(2) == 0 ? 0.999 : 1.001) * (rng.Next(2) == 0 ? 1 : Math.Pow(2, rng.Next(-4, 5)));
        return (DstarScreen.Within(x, y, bound) == (distance <= bound)).Label($"d = {d}, distance {distance}, bound {bound}");
    }
}

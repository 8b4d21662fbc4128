namespace Dstar.Core.Tests;

/// <summary>Obviously-correct, slow references (double precision, plain loops) for the pairwise rules' tests.</summary>
internal static class PairwiseReference
{
    public static float[][] RandomRows(Random rng, int n, int d, double scale = 100, double offset = 0) =>
        Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => (float)(offset + (rng.NextDouble() * 2 - 1) * scale)).ToArray()).ToArray();

    /// <summary>A random shape: n in [minRows, maxRows], d in 1..300 (often not a multiple of 16).</summary>
    public static (int N, int D) Shape(Random rng, int minRows, int maxRows) => (rng.Next(minRows, maxRows + 1), rng.Next(1, 301));

    public static double Distance2(float[] a, float[] b)
    {
        double sum = 0;
        for (int j = 0; j < a.Length; j++)
        {
            double diff = (double)a[j] - b[j];
            sum += diff * diff;
        }

        return sum;
    }

    public static double[] Mean(IEnumerable<float[]> rows)
    {
        var list = rows.ToList();
        var mean = new double[list[0].Length];
        foreach (var r in list)
        {
            for (int j = 0; j < mean.Length; j++)
            {
                mean[j] += r[j];
            }
        }

        for (int j = 0; j < mean.Length; j++)
        {
            mean[j] /= list.Count;
        }

        return mean;
    }

    /// <summary>Krum scores among the listed rows: the sum of the k smallest squared distances to the other listed rows.</summary>
    public static double[] KrumScores(float[][] rows, IReadOnlyList<int> among, int neighbours)
    {
        var scores = new double[among.Count];
        for (int a = 0; a < among.Count; a++)
        {
            var others = among.Where((_, b) => b != a).Select(j => Distance2(rows[among[a]], rows[j])).OrderBy(x => x).ToList();
            scores[a] = others.Take(Math.Max(0, neighbours)).Sum();
        }

        return scores;
    }

    public static bool Close(ReadOnlySpan<float> actual, double[] expected, double tolerance)
    {
        for (int j = 0; j < expected.Length; j++)
        {
            if (Math.Abs(actual[j] - expected[j]) > tolerance * (1 + Math.Abs(expected[j])))
            {
                return false;
            }
        }

        return true;
    }

    public static double Norm(IEnumerable<double> values) => Math.Sqrt(values.Sum(v => v * v));
}

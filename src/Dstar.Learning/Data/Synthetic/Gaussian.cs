namespace Dstar.Learning.Data.Synthetic;

/// <summary>Standard normal draws from a seeded <see cref="Random"/> (Box–Muller), so data sets are reproducible.</summary>
internal static class Gaussian
{
    public static double Next(Random random)
    {
        // 1 − U keeps the logarithm's argument in (0, 1].
        double u = 1.0 - random.NextDouble();
        double v = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }

    public static float[] Matrix(Random random, int count, double scale = 1.0)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(scale * Next(random));
        }

        return values;
    }
}

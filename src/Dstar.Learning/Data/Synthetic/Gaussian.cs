using Dstar.Core.Kernels;

namespace Dstar.Learning.Data.Synthetic;

/// <summary>
/// Standard normal draws from a seeded <see cref="Random"/> (Core's <see cref="StandardNormal.Sample"/>, one draw per
/// value, two uniforms each), so data sets are reproducible.
/// </summary>
internal static class Gaussian
{
    public static double Next(Random random) => StandardNormal.Sample(random);

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

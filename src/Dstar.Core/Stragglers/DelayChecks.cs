namespace Dstar.Core.Stragglers;

/// <summary>Argument checks shared by the delay models.</summary>
internal static class DelayChecks
{
    /// <summary>Throws unless worker and round are ≥ 0 and the random source is given.</summary>
    public static void Sample(string model, int worker, int round, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (worker < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(worker), worker, $"{model}: worker index must be ≥ 0");
        }

        if (round < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(round), round, $"{model}: round must be ≥ 0");
        }
    }

    /// <summary>A uniform draw in (0, 1]: safe under a logarithm or a negative power.</summary>
    public static double OpenUniform(Random random) => 1 - random.NextDouble();
}

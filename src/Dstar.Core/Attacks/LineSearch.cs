namespace Dstar.Core.Attacks;

/// <summary>A value to maximise over one real parameter (the damage an attack does at z or ε).</summary>
internal interface IScalarObjective
{
    double Evaluate(double x);
}

/// <summary>
/// Maximises a one-dimensional objective on [low, high]: a coarse grid first (the damage of an attack through a
/// filtering rule is not unimodal, so a local method alone would stop on the first plateau), then golden-section
/// refinement between the neighbours of the best grid point. On a logarithmic scale both steps work on ln x.
/// Exactly grid + refine evaluations; NaN values count as worst; ties keep the first (smallest x) found.
/// </summary>
internal static class LineSearch
{
    private static readonly double InverseGolden = (Math.Sqrt(5) - 1) / 2;

    public static (double Best, double Value) Maximise(IScalarObjective objective, double low, double high, int grid, int refine, bool logarithmic)
    {
        double a = logarithmic ? Math.Log(low) : low;
        double b = logarithmic ? Math.Log(high) : high;
        double step = grid > 1 ? (b - a) / (grid - 1) : 0;
        double bestT = a, bestValue = double.NegativeInfinity;
        int bestIndex = 0;
        for (int i = 0; i < grid; i++)
        {
            double t = i == grid - 1 ? b : a + i * step;
            double value = Score(objective, t, logarithmic);
            if (value > bestValue)
            {
                (bestT, bestValue, bestIndex) = (t, value, i);
            }
        }

        double left = Math.Max(a, a + (bestIndex - 1) * step);
        double right = Math.Min(b, a + (bestIndex + 1) * step);
        double x1 = right - InverseGolden * (right - left);
        double x2 = left + InverseGolden * (right - left);
        double f1 = double.NaN, f2 = double.NaN;
        for (int i = 0; i < refine; i++)
        {
            // Golden section reuses one interior point per step, so each iteration costs one evaluation.
            if (double.IsNaN(f1))
            {
                f1 = Score(objective, x1, logarithmic);
                Keep(x1, f1, ref bestT, ref bestValue);
                continue;
            }

            if (double.IsNaN(f2))
            {
                f2 = Score(objective, x2, logarithmic);
                Keep(x2, f2, ref bestT, ref bestValue);
                continue;
            }

            if (f1 >= f2)
            {
                (right, x2, f2) = (x2, x1, f1);
                x1 = right - InverseGolden * (right - left);
                f1 = Score(objective, x1, logarithmic);
                Keep(x1, f1, ref bestT, ref bestValue);
            }
            else
            {
                (left, x1, f1) = (x1, x2, f2);
                x2 = left + InverseGolden * (right - left);
                f2 = Score(objective, x2, logarithmic);
                Keep(x2, f2, ref bestT, ref bestValue);
            }
        }

        return (logarithmic ? Math.Exp(bestT) : bestT, bestValue);
    }

    private static double Score(IScalarObjective objective, double t, bool logarithmic)
    {
        double value = objective.Evaluate(logarithmic ? Math.Exp(t) : t);
        return double.IsNaN(value) ? double.NegativeInfinity : value;
    }

    private static void Keep(double t, double value, ref double bestT, ref double bestValue)
    {
        if (value > bestValue)
        {
            (bestT, bestValue) = (t, value);
        }
    }
}

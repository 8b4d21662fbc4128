namespace Dstar.Learning.Partitioning;

/// <summary>
/// <c>dirichlet alpha=0.5 min-size=1</c>: label-skewed split (Hsu, Qi, Brown, "Measuring the Effects of Non-Identical
/// Data Distribution for Federated Visual Classification", 2019). For each class c, proportions p ~ Dir(α, …, α) over
/// the N workers are drawn and the class's shuffled samples are cut at the cumulative proportions. Small α gives each
/// worker few classes; α → ∞ approaches IID. The whole draw is repeated (up to 1000 times, each from the same seeded
/// stream) until every worker holds at least min-size samples.
/// </summary>
public sealed class DirichletPartitioner : IPartitioner
{
    private const int Attempts = 1000;

    /// <summary>Creates the partitioner.</summary>
    /// <exception cref="ArgumentOutOfRangeException">α ≤ 0 or not finite, or min-size &lt; 1.</exception>
    public DirichletPartitioner(double alpha, int minimumSize = 1)
    {
        if (!(alpha > 0) || !double.IsFinite(alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha must be a finite number > 0, got {alpha}");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(minimumSize, 1);
        Alpha = alpha;
        MinimumSize = minimumSize;
    }

    /// <summary>α, the concentration.</summary>
    public double Alpha { get; }

    /// <summary>The fewest samples any worker may get.</summary>
    public int MinimumSize { get; }

    /// <inheritdoc />
    public string Name => $"dirichlet alpha={Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} min-size={MinimumSize}";

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">no draw in 1000 gave every worker min-size samples.</exception>
    public int[][] Partition(IReadOnlyList<int> pool, ReadOnlySpan<int> labels, int workerCount, int seed)
    {
        Shuffling.CheckCommon(Name, pool, workerCount, workerCount * MinimumSize);
        Shuffling.CheckLabels(Name, pool, labels);
        var random = new Random(seed);
        var byClass = new SortedDictionary<int, List<int>>();
        foreach (var index in pool)
        {
            int label = labels[index];
            if (!byClass.TryGetValue(label, out var list))
            {
                byClass[label] = list = new List<int>();
            }

            list.Add(index);
        }

        var proportions = new double[workerCount];
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            var workers = Enumerable.Range(0, workerCount).Select(_ => new List<int>()).ToArray();
            foreach (var members in byClass.Values)
            {
                var shuffled = Shuffling.Shuffled(members, random);
                double total = 0;
                for (int w = 0; w < workerCount; w++)
                {
                    proportions[w] = GammaSample(Alpha, random);
                    total += proportions[w];
                }

                double cumulative = 0;
                int start = 0;
                for (int w = 0; w < workerCount; w++)
                {
                    cumulative += proportions[w];
                    // The last worker takes the remainder, so rounding never loses a sample.
                    int end = w == workerCount - 1 ? shuffled.Length : (int)Math.Round(cumulative / total * shuffled.Length);
                    end = Math.Clamp(end, start, shuffled.Length);
                    workers[w].AddRange(shuffled.AsSpan(start, end - start));
                    start = end;
                }
            }

            if (workers.All(w => w.Count >= MinimumSize))
            {
                return workers.Select(w => w.ToArray()).ToArray();
            }
        }

        throw new InvalidOperationException(
            $"{Name}: no draw in {Attempts} gave each of {workerCount} workers at least {MinimumSize} of {pool.Count} samples; raise alpha or lower min-size");
    }

    /// <summary>
    /// A Gamma(shape, 1) draw: Marsaglia and Tsang, "A Simple Method for Generating Gamma Variables" (2000); for
    /// shape &lt; 1, Gamma(shape + 1)·U^(1/shape). Normalised Gamma(α) draws are Dir(α).
    /// </summary>
    internal static double GammaSample(double shape, Random random)
    {
        if (shape < 1)
        {
            double u = 1.0 - random.NextDouble();
            return GammaSample(shape + 1, random) * Math.Pow(u, 1.0 / shape);
        }

        double d = shape - 1.0 / 3.0, c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Data.Synthetic.Gaussian.Next(random);
                v = 1.0 + c * x;
            }
            while (v <= 0);

            v = v * v * v;
            double uniform = 1.0 - random.NextDouble();
            if (Math.Log(uniform) < 0.5 * x * x + d - d * v + d * Math.Log(v))
            {
                return d * v;
            }
        }
    }
}

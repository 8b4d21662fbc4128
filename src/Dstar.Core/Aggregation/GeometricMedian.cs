using System.Numerics.Tensors;
using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// The geometric median argmin_z Σᵢ ‖xᵢ − z‖ by smoothed Weiszfeld iterations (Pillutla, Kakade, Harchaoui, "Robust
/// Aggregation for Federated Learning", IEEE TSP 2022, Algorithm 2 with unit weights):
/// z ← Σ wᵢxᵢ / Σ wᵢ with wᵢ = 1 / max(ν, ‖xᵢ − z‖), starting from the coordinate mean, until the relative change
/// ‖z_new − z‖ / medianᵢ ‖xᵢ − z‖ falls below <see cref="Tolerance"/> or after <see cref="Iterations"/> iterations.
/// </summary>
/// <remarks>
/// <para>
/// Our choice of "relative change": relative to the median distance of the rows from z, not to ‖z‖, so that the
/// stopping rule does not depend on where the origin is (a gradient near 0 would otherwise never stop early), and not
/// to the mean distance, which f far rows inflate until the iteration stops early, far from the honest rows.
/// </para>
/// <para>
/// How it is computed: every iterate is a convex combination z = Σⱼ cⱼxⱼ, and for such a z
/// ‖xᵢ − z‖² = Σⱼ cⱼDᵢⱼ − ½ Σⱼₖ cⱼcₖDⱼₖ with D the squared distance matrix. So one Gram pass over the data gives D,
/// every iteration then costs O(n²) instead of O(n·d). That phase is only as exact as D, whose entries carry float
/// rounding of about 1e-7 relative; a far row (distance R) then blurs the others' distances by about 1e-7·R. So the
/// coefficient phase only provides the starting point, and the iteration continues with exact d-dimensional Weiszfeld
/// steps, each one fused pass over the data (tile by tile: z_new = Σ wᵢxᵢ/Σ wᵢ, then ‖xᵢ − z_new‖ from the same
/// tile in cache), until the same relative-change test holds. Typical inputs need one or two such passes; each phase
/// is capped at <see cref="Iterations"/>.
/// </para>
/// <para>
/// Requirements: n ≥ 1 and f &lt; n/2 (the breakdown point of the geometric median is 1/2), with f the context's
/// Byzantine count. Non-finite rows are dropped and reported before the distances; the requirements are then checked
/// again on the finite rows.
/// </para>
/// <para>
/// Far rows: a row whose squared distances overflow float (|x| ≳ 1e19; the Gram pass reports +∞ for them) takes no
/// part in the coefficient phase, which only gives the starting point. Such a row still pulls z by about a unit
/// vector (wᵢxᵢ ≈ xᵢ/‖xᵢ − z‖, however far it is), so the exact passes weigh it like every other row: its distance to
/// z is recomputed in double whenever the float one overflows, and its term cᵢxᵢ is summed in double (cᵢ can be
/// below float's normal range). When every row is far from the others the iteration starts from the coordinate mean.
/// Normal inputs never take these paths.
/// </para>
/// <para>Report: Kept = rows with a non-zero final weight (every finite row), Weights = the final normalized weights, Scores = ‖xᵢ − z‖ at the last iterate.</para>
/// <para>Cost: one Gram pass (see <see cref="PairwiseDistances"/>), O(T·n²) for T coefficient iterations, then one read of the rows per exact pass (at least two).</para>
/// </remarks>
public sealed class GeometricMedian : IAggregator
{
    private readonly DistanceWorkspace _workspace = new();
    private double[] _coefficients = Array.Empty<double>();
    private double[] _next = Array.Empty<double>();
    private double[] _toPoint = Array.Empty<double>();
    private double[] _distanceToZ = Array.Empty<double>();
    private bool[] _usable = Array.Empty<bool>();
    private float[] _tile = Array.Empty<float>();
    private double[] _farTile = Array.Empty<double>();
    private double[] _median = Array.Empty<double>();
    private const int TileWidth = 2048;

    /// <summary>Creates the rule.</summary>
    /// <param name="smoothing">ν &gt; 0: distances below it count as ν, so a row equal to z does not get infinite weight.</param>
    /// <param name="tolerance">Stop when the relative change falls below this (≥ 0).</param>
    /// <param name="iterations">At most this many iterations (≥ 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">a parameter is out of range.</exception>
    public GeometricMedian(double smoothing = 1e-6, double tolerance = 1e-6, int iterations = 100)
    {
        if (!(smoothing > 0) || double.IsInfinity(smoothing))
        {
            throw new ArgumentOutOfRangeException(nameof(smoothing), $"geometric-median: nu must be a finite value > 0, got {smoothing}");
        }

        if (!(tolerance >= 0) || double.IsInfinity(tolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), $"geometric-median: tol must be a finite value ≥ 0, got {tolerance}");
        }

        if (iterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), $"geometric-median: iterations must be ≥ 1, got {iterations}");
        }

        Smoothing = smoothing;
        Tolerance = tolerance;
        Iterations = iterations;
    }

    /// <summary>ν, the smoothing floor on distances.</summary>
    public double Smoothing { get; }

    /// <summary>The relative-change tolerance.</summary>
    public double Tolerance { get; }

    /// <summary>The iteration cap T.</summary>
    public int Iterations { get; }

    /// <summary>Coefficient-space iterations the last call ran (for tests and benchmarks).</summary>
    public int LastIterations { get; private set; }

    /// <summary>Exact d-dimensional passes the last call ran (for tests and benchmarks).</summary>
    public int LastExactPasses { get; private set; }

    /// <inheritdoc />
    public string Name => "geometric-median";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        // n ≥ 2f+1 is f < n/2: the geometric median's breakdown point.
        return RuleRequirements.AtLeast(Name, n, 1) ?? RuleRequirements.AtLeast(Name, n, "2f+1", 2 * f + 1, f);
    }

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        RuleRequirements.Output(Name, batch, output);
        int f = context.ByzantineCount;
        int n = batch.Count;
        bool hasValidation = context.ValidationGradient is not null;
        RuleRequirements.Ensure(CheckRequirements(n, f, hasValidation));
        int m = _workspace.Measure(batch, context.MaxDegreeOfParallelism);
        RuleRequirements.EnsureOnFinite(CheckRequirements(m, f, hasValidation), n, m);

        Scratch.AtLeast(ref _coefficients, m);
        Scratch.AtLeast(ref _next, m);
        Scratch.AtLeast(ref _toPoint, m);
        Scratch.AtLeast(ref _distanceToZ, m);
        Scratch.AtLeast(ref _usable, m);
        var distances = _workspace.Distances;
        var usable = _usable.AsSpan(0, m);
        int usableCount = MarkUsable(distances, m, usable);
        var c = _coefficients.AsSpan(0, m);
        var next = _next.AsSpan(0, m);
        var toZ = _distanceToZ.AsSpan(0, m);
        for (int i = 0; i < m; i++)
        {
            // With no row measurable in float, start from the coordinate mean of all rows (exact passes only).
            c[i] = usableCount == 0 ? 1.0 / m : usable[i] ? 1.0 / usableCount : 0;
        }

        int iteration = 0;
        DistancesToCombination(distances, m, c, usable, toZ);
        while (usableCount > 0 && iteration < Iterations)
        {
            iteration++;
            double total = 0, spread = 0;
            for (int i = 0; i < m; i++)
            {
                next[i] = usable[i] ? 1.0 / Math.Max(Smoothing, toZ[i]) : 0;
                total += next[i];
            }

            spread = MedianDistance(toZ, usable);
            for (int i = 0; i < m; i++)
            {
                next[i] /= total;
            }

            double change = Math.Sqrt(SquaredNormOfDifference(distances, m, next, c, usable));
            next.CopyTo(c);
            DistancesToCombination(distances, m, c, usable, toZ);
            if (spread == 0 || change <= Tolerance * spread)
            {
                break;
            }
        }

        var rows = _workspace.Rows;
        Scratch.AtLeast(ref _tile, TileWidth);
        Scratch.AtLeast(ref _farTile, TileWidth);
        ExactPass(batch, rows, c, usable, output, toZ, first: true);
        int exact = 0;
        while (exact < Iterations)
        {
            exact++;
            double total = 0, spread = 0;
            for (int i = 0; i < m; i++)
            {
                c[i] = 1.0 / Math.Max(Smoothing, toZ[i]);
                total += c[i];
            }

            spread = MedianDistance(toZ, usable: default);
            for (int i = 0; i < m; i++)
            {
                c[i] /= total;
            }

            double change = Math.Sqrt(ExactPass(batch, rows, c, usable, output, toZ, first: false));
            if (spread == 0 || change <= Tolerance * spread)
            {
                break;
            }
        }

        LastIterations = iteration;
        LastExactPasses = exact;

        var kept = new List<int>(m);
        for (int a = 0; a < m; a++)
        {
            if (c[a] > 0)
            {
                kept.Add(rows[a]);
            }
        }

        return new AggregationReport(Name, kept, _workspace.Spread(c, n, 0), _workspace.Spread(toZ, n, double.NaN), _workspace.NonFiniteRows(n));
    }

    /// <summary>
    /// One pass over the data, tile by tile: z_new = Σⱼ cⱼxⱼ written into <paramref name="z"/>, the exact distances
    /// ‖xᵢ − z_new‖ into <paramref name="toZ"/>; returns ‖z_new − z_old‖² (0 on the first pass, when z holds nothing).
    /// Far rows (not <paramref name="usable"/>) add their terms in double; a tile distance that overflows float is
    /// recomputed in double.
    /// </summary>
    private double ExactPass(GradientBatch batch, ReadOnlySpan<int> rows, ReadOnlySpan<double> c, ReadOnlySpan<bool> usable, Span<float> z, Span<double> toZ, bool first)
    {
        int m = rows.Length, d = batch.Dimension;
        var data = batch.Buffer;
        var fresh = _tile.AsSpan(0, TileWidth);
        bool anyFar = false;
        for (int k = 0; k < m; k++)
        {
            anyFar |= !usable[k] && c[k] != 0;
        }

        toZ[..m].Clear();
        double change = 0;
        for (int start = 0; start < d; start += TileWidth)
        {
            int width = Math.Min(TileWidth, d - start);
            var next = fresh[..width];
            next.Clear();
            for (int k = 0; k < m; k++)
            {
                if (c[k] != 0 && usable[k])
                {
                    TensorPrimitives.MultiplyAdd(data.AsSpan(rows[k] * d + start, width), (float)c[k], next, next);
                }
            }

            if (anyFar)
            {
                AddFarRows(data, rows, c, usable, d, start, next);
            }

            var current = z.Slice(start, width);
            if (!first)
            {
                double step = TensorPrimitives.Distance<float>(next, current);
                change += step * step;
            }

            next.CopyTo(current);
            for (int k = 0; k < m; k++)
            {
                var row = data.AsSpan(rows[k] * d + start, width);
                double r = TensorPrimitives.Distance<float>(row, current);
                toZ[k] += double.IsFinite(r) ? r * r : RowDeviations.Exact(row, current);
            }
        }

        for (int k = 0; k < m; k++)
        {
            toZ[k] = Math.Sqrt(toZ[k]);
        }

        return change;
    }

    // Adds Σ cₖxₖ over the far rows to one tile of z, summed in double: cₖ of a row near float's limit (≈ 1/‖xₖ‖) is
    // below float's normal range, and the sum is rounded to float once.
    private void AddFarRows(float[] data, ReadOnlySpan<int> rows, ReadOnlySpan<double> c, ReadOnlySpan<bool> usable, int d, int start, Span<float> next)
    {
        int width = next.Length;
        var sum = _farTile.AsSpan(0, width);
        sum.Clear();
        for (int k = 0; k < rows.Length; k++)
        {
            if (c[k] != 0 && !usable[k])
            {
                var row = data.AsSpan(rows[k] * d + start, width);
                double weight = c[k];
                for (int j = 0; j < width; j++)
                {
                    sum[j] += weight * row[j];
                }
            }
        }

        for (int j = 0; j < width; j++)
        {
            next[j] = (float)(next[j] + sum[j]);
        }
    }

    // The median of the rows' distances to z (upper median), over the usable rows or, when usable is empty, over all
    // rows; sorted in a scratch buffer.
    private double MedianDistance(ReadOnlySpan<double> toZ, ReadOnlySpan<bool> usable)
    {
        Scratch.AtLeast(ref _median, toZ.Length);
        int count = 0;
        for (int i = 0; i < toZ.Length; i++)
        {
            if (usable.IsEmpty || usable[i])
            {
                _median[count++] = toZ[i];
            }
        }

        var values = _median.AsSpan(0, count);
        values.Sort();
        return values[count / 2];
    }

    // A row is usable unless its distance to more than half of the other rows overflowed.
    private static int MarkUsable(ReadOnlySpan<double> distances, int m, Span<bool> usable)
    {
        int count = 0;
        for (int i = 0; i < m; i++)
        {
            int infinite = 0;
            for (int j = 0; j < m; j++)
            {
                infinite += double.IsPositiveInfinity(distances[i * m + j]) ? 1 : 0;
            }

            usable[i] = 2 * infinite <= m - 1;
            count += usable[i] ? 1 : 0;
        }

        // A usable row with an infinite distance to another usable one would make every later sum infinite.
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < m && usable[i]; j++)
            {
                if (usable[j] && double.IsPositiveInfinity(distances[i * m + j]))
                {
                    usable[i] = false;
                    count--;
                }
            }
        }

        return count;
    }

    // ‖xᵢ − Σⱼ cⱼxⱼ‖ = sqrt(Σⱼ cⱼDᵢⱼ − ½ Σⱼₖ cⱼcₖDⱼₖ) for Σⱼ cⱼ = 1.
    private static void DistancesToCombination(ReadOnlySpan<double> distances, int m, ReadOnlySpan<double> c, ReadOnlySpan<bool> usable, Span<double> result)
    {
        double self = 0;
        for (int i = 0; i < m; i++)
        {
            if (!usable[i])
            {
                result[i] = 0;
                continue;
            }

            double sum = 0;
            for (int j = 0; j < m; j++)
            {
                if (usable[j])
                {
                    sum += c[j] * distances[i * m + j];
                }
            }

            result[i] = sum;
            self += c[i] * sum;
        }

        for (int i = 0; i < m; i++)
        {
            result[i] = usable[i] ? Math.Sqrt(Math.Max(0, result[i] - self / 2)) : 0;
        }
    }

    // ‖Σⱼ (aⱼ − bⱼ) xⱼ‖² = −½ Σⱼₖ δⱼδₖDⱼₖ when Σⱼ δⱼ = 0.
    private static double SquaredNormOfDifference(ReadOnlySpan<double> distances, int m, ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<bool> usable)
    {
        double sum = 0;
        for (int i = 0; i < m; i++)
        {
            if (!usable[i])
            {
                continue;
            }

            double inner = 0;
            for (int j = 0; j < m; j++)
            {
                if (usable[j])
                {
                    inner += (a[j] - b[j]) * distances[i * m + j];
                }
            }

            sum += (a[i] - b[i]) * inner;
        }

        return Math.Max(0, -sum / 2);
    }
}

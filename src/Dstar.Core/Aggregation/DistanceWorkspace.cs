using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// The per-instance scratch of a distance-based rule: the finite rows of the last batch and their squared distance
/// matrix, from <see cref="PairwiseDistances.SquaredOfFiniteRows"/>. Buffers grow to the largest batch seen and are
/// then reused, so steady-state rounds allocate nothing here.
/// </summary>
internal sealed class DistanceWorkspace
{
    private int[] _rows = Array.Empty<int>();
    private double[] _distances = Array.Empty<double>();

    /// <summary>m: the number of finite rows found by the last <see cref="Measure"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Batch indices of the finite rows, ascending.</summary>
    public ReadOnlySpan<int> Rows => _rows.AsSpan(0, Count);

    /// <summary>The m×m squared distance matrix (row-major, in the order of <see cref="Rows"/>).</summary>
    public ReadOnlySpan<double> Distances => _distances.AsSpan(0, Count * Count);

    /// <summary>Squared distance between the a-th and b-th finite rows.</summary>
    public double this[int a, int b] => _distances[a * Count + b];

    /// <summary>Measures every row of the batch, drops the non-finite ones, and returns how many are left.</summary>
    public int Measure(GradientBatch batch, int maxDegreeOfParallelism)
    {
        int n = batch.Count;
        if (_rows.Length < n)
        {
            _rows = new int[n];
            _distances = new double[n * n];
        }

        for (int i = 0; i < n; i++)
        {
            _rows[i] = i;
        }

        Count = PairwiseDistances.SquaredOfFiniteRows(batch, _rows.AsSpan(0, n), _distances, Math.Max(1, maxDegreeOfParallelism));
        return Count;
    }

    /// <summary>The batch rows that were dropped as non-finite, ascending (allocates: it goes into the report).</summary>
    public int[] NonFiniteRows(int n)
    {
        var dropped = new int[n - Count];
        int next = 0, k = 0;
        for (int i = 0; i < n; i++)
        {
            if (next < Count && _rows[next] == i)
            {
                next++;
            }
            else
            {
                dropped[k++] = i;
            }
        }

        return dropped;
    }

    /// <summary>Maps per-finite-row values onto a per-batch-row array, with <paramref name="missing"/> for dropped rows.</summary>
    public double[] Spread(ReadOnlySpan<double> values, int n, double missing)
    {
        var result = new double[n];
        Array.Fill(result, missing);
        for (int a = 0; a < Count; a++)
        {
            result[_rows[a]] = values[a];
        }

        return result;
    }

    /// <summary>Batch indices of the given finite-row positions, ascending (allocates: it goes into the report).</summary>
    public int[] BatchRows(ReadOnlySpan<int> positions)
    {
        var result = new int[positions.Length];
        for (int k = 0; k < positions.Length; k++)
        {
            result[k] = _rows[positions[k]];
        }

        Array.Sort(result);
        return result;
    }
}

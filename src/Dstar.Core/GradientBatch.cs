namespace Dstar.Core;

/// <summary>
/// n rows × d columns of <see cref="float"/> in one contiguous row-major buffer: row i is worker i's gradient.
/// Rules read rows as spans and never copy the input.
/// </summary>
/// <remarks>
/// A batch has a fixed capacity (rows) and dimension; <see cref="Count"/> may be lowered and raised again within the
/// capacity so that one buffer serves every round without allocating.
/// </remarks>
public sealed class GradientBatch
{
    private readonly float[] _buffer;
    private int _count;

    /// <summary>Allocates a zeroed batch of <paramref name="capacity"/> rows of <paramref name="dimension"/> floats.</summary>
    /// <exception cref="ArgumentOutOfRangeException">capacity or dimension is not positive, or capacity·dimension overflows.</exception>
    public GradientBatch(int capacity, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        long size = (long)capacity * dimension;
        if (size > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), $"a batch of {capacity} × {dimension} floats exceeds the largest array");
        }

        _buffer = GC.AllocateUninitializedArray<float>((int)size, pinned: true);
        Array.Clear(_buffer);
        Capacity = capacity;
        Dimension = dimension;
        _count = capacity;
    }

    /// <summary>Wraps an existing row-major buffer of exactly <paramref name="rows"/>·<paramref name="dimension"/> floats (no copy).</summary>
    /// <exception cref="ArgumentException">the buffer length is not rows·dimension.</exception>
    public GradientBatch(float[] buffer, int rows, int dimension)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if ((long)rows * dimension != buffer.Length)
        {
            throw new ArgumentException($"buffer holds {buffer.Length} floats, expected {rows} × {dimension} = {(long)rows * dimension}", nameof(buffer));
        }

        _buffer = buffer;
        Capacity = rows;
        Dimension = dimension;
        _count = rows;
    }

    /// <summary>Number of rows in use (n).</summary>
    public int Count
    {
        get => _count;
        set
        {
            if (value < 0 || value > Capacity)
            {
                throw new ArgumentOutOfRangeException(nameof(value), $"row count {value} is outside 0..{Capacity}");
            }

            _count = value;
        }
    }

    /// <summary>Largest row count this batch can hold.</summary>
    public int Capacity { get; }

    /// <summary>Length of every row (d).</summary>
    public int Dimension { get; }

    /// <summary>The underlying buffer (capacity·dimension floats); rows past <see cref="Count"/> are scratch.</summary>
    public float[] Buffer => _buffer;

    /// <summary>Row <paramref name="index"/> as a writable span.</summary>
    /// <exception cref="ArgumentOutOfRangeException">index is outside 0..Count−1.</exception>
    public Span<float> Row(int index)
    {
        if ((uint)index >= (uint)_count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"row {index} is outside 0..{_count - 1}");
        }

        return _buffer.AsSpan(index * Dimension, Dimension);
    }

    /// <summary>The <see cref="Count"/> rows in use, as one contiguous span.</summary>
    public Span<float> AsSpan() => _buffer.AsSpan(0, _count * Dimension);

    /// <summary>Copies <paramref name="values"/> into row <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentException">values has the wrong length.</exception>
    public void SetRow(int index, ReadOnlySpan<float> values)
    {
        if (values.Length != Dimension)
        {
            throw new ArgumentException($"gradient has {values.Length} values, expected {Dimension}", nameof(values));
        }

        values.CopyTo(Row(index));
    }

    /// <summary>Builds a batch from jagged rows (tests and small tools).</summary>
    /// <exception cref="ArgumentException">rows is empty or the rows differ in length.</exception>
    public static GradientBatch FromRows(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("a batch needs at least one row", nameof(rows));
        }

        var batch = new GradientBatch(rows.Count, rows[0].Length);
        for (int i = 0; i < rows.Count; i++)
        {
            batch.SetRow(i, rows[i]);
        }

        return batch;
    }
}

using System.Collections.Concurrent;

namespace Dstar.Cluster.Server;

/// <summary>
/// Reused receive buffers of d floats: a gradient is decoded from the HTTP/2 pipe straight into one, handed to the
/// round loop as an arrival, and returned once the collector has copied it. Keeps at most
/// <see cref="MaxRetained"/> free buffers; the rest go back to the GC.
/// </summary>
internal sealed class GradientBufferPool
{
    private readonly ConcurrentBag<float[]> _free = new();
    private int _freeCount;

    /// <summary>A pool of buffers of <paramref name="dimension"/> floats, keeping at most <paramref name="maxRetained"/> free ones.</summary>
    public GradientBufferPool(int dimension, int maxRetained)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetained);
        Dimension = dimension;
        MaxRetained = maxRetained;
    }

    /// <summary>d: floats per buffer.</summary>
    public int Dimension { get; }

    /// <summary>Free buffers kept at most.</summary>
    public int MaxRetained { get; }

    /// <summary>A buffer of d floats (its contents are whatever the last user left).</summary>
    public float[] Rent()
    {
        if (_free.TryTake(out var buffer))
        {
            Interlocked.Decrement(ref _freeCount);
            return buffer;
        }

        return GC.AllocateUninitializedArray<float>(Dimension);
    }

    /// <summary>
    /// Room for a received gradient of <paramref name="count"/> values: a pooled buffer when that is d (return it as
    /// <c>Pooled</c>), else a new array of that length (the collector refuses its length; it goes to the GC).
    /// </summary>
    public (float[] Values, float[]? Pooled) RentFor(int count)
    {
        if (count == Dimension)
        {
            var buffer = Rent();
            return (buffer, buffer);
        }

        return (new float[count], null);
    }

    /// <summary>Gives a buffer back; one of another length (never rented here) is ignored.</summary>
    public void Return(float[] buffer)
    {
        if (buffer.Length != Dimension)
        {
            return;
        }

        if (Interlocked.Increment(ref _freeCount) <= MaxRetained)
        {
            _free.Add(buffer);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }
}

using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Dstar.Cluster.Server;

/// <summary>
/// The memory Kestrel reads sockets into, in blocks of <see cref="BlockSize"/> bytes instead of Kestrel's 4 KiB.
/// Kestrel receives into one pool block at a time, so with 4 KiB blocks a 4 MB gradient takes about a thousand
/// receive calls, each handed from the socket loop to the HTTP/2 frame loop; <c>dstar bench wire</c> measured that as
/// the largest cost of a push (docs/benchmarks.md). Blocks are pinned arrays (sockets read into them without pinning
/// each time), reused, and at most <see cref="MaxRetainedBytes"/> of free blocks are kept; the rest go back to the GC.
/// </summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>Bytes per block: 64 KiB.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>Free blocks kept for reuse at most, in bytes (64 MiB).</summary>
    public const long MaxRetainedBytes = 64L * 1024 * 1024;

    private readonly ConcurrentQueue<byte[]> _free = new();
    private int _freeCount;
    private bool _disposed;

    /// <inheritdoc />
    public override int MaxBufferSize => BlockSize;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">more than <see cref="BlockSize"/> bytes were asked for.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_free.TryDequeue(out var array))
        {
            Interlocked.Decrement(ref _freeCount);
        }
        else
        {
            array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        }

        return new Block(this, array);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(byte[] array)
    {
        if (!_disposed && Interlocked.Increment(ref _freeCount) * (long)BlockSize <= MaxRetainedBytes)
        {
            _free.Enqueue(array);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    /// <summary>One rented block; disposing it returns the array to the pool once.</summary>
    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(LargeBlockMemoryPool), "the block was returned to the pool");

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _array, null) is { } returned)
            {
                pool.Return(returned);
            }
        }
    }
}

/// <summary>Hands Kestrel a <see cref="LargeBlockMemoryPool"/> (registered in the server's services).</summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    /// <inheritdoc />
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}

using Dstar.Cluster.Server;

namespace Dstar.Cluster.Tests.Server;

public class LargeBlockMemoryPoolTests
{
    [Fact]
    public void Blocks_are_whole_reused_once_returned_and_a_second_dispose_does_nothing()
    {
        using var pool = new LargeBlockMemoryPool();
        var first = pool.Rent(100);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, first.Memory.Length);
        first.Memory.Span.Fill(7);
        var array = System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(first.Memory, out var segment) ? segment.Array : null;
        first.Dispose();
        first.Dispose();
        Assert.Throws<ObjectDisposedException>(() => first.Memory);

        using var second = pool.Rent();
        using var third = pool.Rent();
        // The returned block comes back once, never to two renters at the same time.
        var arrays = new[] { second, third }.Select(b => System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(b.Memory, out var s) ? s.Array : null).ToList();
        Assert.Single(arrays, a => ReferenceEquals(a, array));
        Assert.NotSame(arrays[0], arrays[1]);
    }

    [Fact]
    public void Asking_for_more_than_a_block_is_refused()
    {
        using var pool = new LargeBlockMemoryPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(LargeBlockMemoryPool.BlockSize + 1));
    }
}

public class GradientBufferPoolTests
{
    [Fact]
    public void Keeps_at_most_the_retained_count_and_ignores_foreign_buffers()
    {
        var pool = new GradientBufferPool(10, maxRetained: 2);
        var rented = Enumerable.Range(0, 4).Select(_ => pool.Rent()).ToList();
        Assert.All(rented, b => Assert.Equal(10, b.Length));
        Assert.Equal(4, rented.Distinct().Count());
        rented.ForEach(pool.Return);
        pool.Return(new float[3]);

        var again = Enumerable.Range(0, 4).Select(_ => pool.Rent()).ToList();
        Assert.Equal(2, again.Count(rented.Contains));
        Assert.All(again, b => Assert.Equal(10, b.Length));
    }
}

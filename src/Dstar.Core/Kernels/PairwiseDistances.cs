using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dstar.Core.Kernels;

/// <summary>
/// Pairwise squared Euclidean distances between rows of a batch, through the Gram matrix:
/// ‖xᵢ − xⱼ‖² = ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ. Krum, Multi-Krum, Bulyan, MDA, the geometric median and NNM all call this.
/// </summary>
/// <remarks>
/// <para>
/// One pass over the data, in column tiles that fit in L2 (about 512 KiB for all m rows), each multiplied by a
/// register-blocked 4×4 micro-kernel while the next tile is prefetched; float sums within a tile, double across tiles.
/// With AVX-512 the rows are read where they lie and centred in registers; other hardware copies each tile first.
/// </para>
/// <para>
/// Why each tile is centred on a median row: the Gram form cancels catastrophically when the rows share a large
/// offset, and a median row is a typical honest row that an enormous Byzantine row cannot move, so the relative error of
/// a distance is about 1e-6 · ‖xᵢ − r‖²/‖xᵢ − xⱼ‖² rather than 1e-6 · ‖xᵢ‖²/‖xᵢ − xⱼ‖².
/// </para>
/// <para>
/// Rows holding NaN or ±∞ are flagged and left out (see <see cref="SquaredOfFiniteRows"/>); finite rows too large for
/// float products (|x| ≳ 1e19) get distance +∞ to every other row.
/// </para>
/// <para>
/// Cost: O(m²·d/2) multiply-adds and one read of m·d floats; scratch up to about 512 KiB + O(m²) per thread from
/// <see cref="ArrayPool{T}.Shared"/>, so steady-state calls on one thread allocate nothing. The design and its
/// measurements are in docs/benchmarks.md, "Kernel design notes".
/// </para>
/// </remarks>
public static class PairwiseDistances
{
    /// <summary>The widest column tile, in floats (a multiple of 16).</summary>
    public const int MaxTileWidth = 8192;

    /// <summary>The narrowest column tile, in floats (a multiple of 16).</summary>
    public const int MinTileWidth = 1024;

    // About 512 KiB of tile per thread: wide tiles keep each row's read sequential for longer (reading 16 rows in
    // 4 KiB pieces runs at half the speed of reading them in 32 KiB pieces), while the tile still fits in L2.
    private const int TileBytes = 512 * 1024;

    /// <summary>The tile width used for mPad (rows rounded up to 4) rows: a power of two in [MinTileWidth, MaxTileWidth].</summary>
    internal static int TileWidthFor(int paddedRows)
    {
        int width = MaxTileWidth;
        while (width > MinTileWidth && (long)width * paddedRows * sizeof(float) > TileBytes)
        {
            width /= 2;
        }

        return width;
    }

    private const int Block = 4;

    /// <summary>
    /// Fills <paramref name="distances"/> (n×n, row-major) with the squared distances between all n rows of
    /// <paramref name="batch"/>; the diagonal is 0 and negative round-off is clamped to 0.
    /// </summary>
    /// <exception cref="ArgumentException">the matrix has fewer than n² entries, or a row holds NaN or ±∞.</exception>
    public static void Squared(GradientBatch batch, Span<double> distances)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int n = batch.Count;
        var rows = ArrayPool<int>.Shared.Rent(Math.Max(1, n));
        try
        {
            for (int i = 0; i < n; i++)
            {
                rows[i] = i;
            }

            int finite = SquaredOfFiniteRows(batch, rows.AsSpan(0, n), distances);
            if (finite != n)
            {
                throw new ArgumentException($"{n - finite} of the {n} rows hold NaN or ±∞; pairwise distances need finite rows", nameof(batch));
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rows);
        }
    }

    /// <summary>
    /// Computes the squared distances between the rows of <paramref name="batch"/> listed in <paramref name="rows"/>,
    /// leaving out rows that hold NaN or ±∞.
    /// </summary>
    /// <param name="batch">The gradients.</param>
    /// <param name="rows">
    /// Batch row indices to measure (m of them, each in 0..Count−1). On return its first m′ entries are the finite rows,
    /// in their original order, and the return value is m′.
    /// </param>
    /// <param name="distances">
    /// At least m² entries. On return its first m′² entries hold the m′×m′ row-major matrix of squared distances
    /// between the finite rows, in the order of <paramref name="rows"/>: diagonal 0, symmetric, never negative,
    /// +∞ for a row too large for float products.
    /// </param>
    /// <param name="maxDegreeOfParallelism">Threads to split the column tiles over (1 = the calling thread only).</param>
    /// <returns>m′, the number of finite rows.</returns>
    /// <exception cref="ArgumentException">the matrix is too small or a row index is out of range.</exception>
    public static int SquaredOfFiniteRows(GradientBatch batch, Span<int> rows, Span<double> distances, int maxDegreeOfParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int m = rows.Length;
        if (distances.Length < m * m)
        {
            throw new ArgumentException($"distance matrix needs {m * m} entries for {m} rows, got {distances.Length}", nameof(distances));
        }

        foreach (var r in rows)
        {
            if ((uint)r >= (uint)batch.Count)
            {
                throw new ArgumentException($"row {r} is outside 0..{batch.Count - 1}", nameof(rows));
            }
        }

        if (m == 0)
        {
            return 0;
        }

        int d = batch.Dimension;
        int mPad0 = (m + Block - 1) / Block * Block;
        int tileWidth = TileWidthFor(mPad0);
        int tiles = (d + tileWidth - 1) / tileWidth;
        int parts = Math.Clamp(maxDegreeOfParallelism, 1, tiles);
        int mPad = (m + Block - 1) / Block * Block;

        var rowArray = ArrayPool<int>.Shared.Rent(m);
        var nonFinite = ArrayPool<bool>.Shared.Rent(m * parts);
        var gram = ArrayPool<double>.Shared.Rent(mPad * mPad * parts);
        try
        {
            rows.CopyTo(rowArray);
            Array.Clear(nonFinite, 0, m * parts);
            Array.Clear(gram, 0, mPad * mPad * parts);
            if (parts == 1)
            {
                AccumulateTiles(batch, rowArray, m, tileWidth, 0, tiles, gram.AsSpan(0, mPad * mPad), nonFinite.AsSpan(0, m));
            }
            else
            {
                var options = new ParallelOptions { MaxDegreeOfParallelism = parts };
                Parallel.For(0, parts, options, p =>
                {
                    int first = (int)((long)tiles * p / parts);
                    int last = (int)((long)tiles * (p + 1) / parts);
                    AccumulateTiles(batch, rowArray, m, tileWidth, first, last, gram.AsSpan(p * mPad * mPad, mPad * mPad), nonFinite.AsSpan(p * m, m));
                });
                for (int p = 1; p < parts; p++)
                {
                    TensorPrimitives.Add(gram.AsSpan(0, mPad * mPad), gram.AsSpan(p * mPad * mPad, mPad * mPad), gram.AsSpan(0, mPad * mPad));
                    for (int i = 0; i < m; i++)
                    {
                        nonFinite[i] |= nonFinite[p * m + i];
                    }
                }
            }

            return WriteDistances(gram.AsSpan(0, mPad * mPad), mPad, nonFinite.AsSpan(0, m), rows, distances);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rowArray);
            ArrayPool<bool>.Shared.Return(nonFinite);
            ArrayPool<double>.Shared.Return(gram);
        }
    }

    private static int WriteDistances(ReadOnlySpan<double> gram, int mPad, ReadOnlySpan<bool> nonFinite, Span<int> rows, Span<double> distances)
    {
        int m = rows.Length;
        Span<int> finite = m <= 256 ? stackalloc int[m] : new int[m];
        int count = 0;
        for (int i = 0; i < m; i++)
        {
            if (!nonFinite[i])
            {
                finite[count++] = i;
            }
        }

        for (int a = 0; a < count; a++)
        {
            int i = finite[a];
            distances[a * count + a] = 0;
            for (int b = a + 1; b < count; b++)
            {
                int j = finite[b];
                // Upper triangle only: the micro-kernel fills gram[i, j] for i ≤ j.
                double value = gram[i * mPad + i] + gram[j * mPad + j] - 2 * gram[i * mPad + j];
                value = double.IsNaN(value) || double.IsInfinity(value) ? double.PositiveInfinity : Math.Max(0, value);
                distances[a * count + b] = value;
                distances[b * count + a] = value;
            }
        }

        for (int a = 0; a < count; a++)
        {
            rows[a] = rows[finite[a]];
        }

        return count;
    }

    private static void AccumulateTiles(GradientBatch batch, int[] rows, int m, int tileWidth, int firstTile, int lastTile, Span<double> gram, Span<bool> nonFinite)
    {
        if (Vector512.IsHardwareAccelerated && KernelSettings.WidthLimit >= 16 && KernelSettings.CenterInRegisters)
        {
            AccumulateTilesInPlace(batch, rows, m, tileWidth, firstTile, lastTile, gram, nonFinite);
            return;
        }

        int mPad = (m + Block - 1) / Block * Block;
        var tile = ArrayPool<float>.Shared.Rent(mPad * tileWidth);
        var reference = ArrayPool<float>.Shared.Rent(tileWidth);
        var squares = ArrayPool<float>.Shared.Rent(m);
        var order = ArrayPool<int>.Shared.Rent(m);
        try
        {
            // Padding rows stay zero, so every block is a full 4×4 block.
            Array.Clear(tile, 0, mPad * tileWidth);
            var data = batch.Buffer;
            int d = batch.Dimension;
            int referenceRow = FirstReference(data, rows, m, d, tileWidth, firstTile * tileWidth, squares, order);
            for (int t = firstTile; t < lastTile; t++)
            {
                int start = t * tileWidth;
                int width = Math.Min(tileWidth, d - start);
                int padded = (width + 15) & ~15;
                var referenceSpan = reference.AsSpan(0, padded);
                referenceSpan.Clear();
                if (referenceRow >= 0)
                {
                    var referenceSource = data.AsSpan(rows[referenceRow] * d + start, width);
                    // A reference that is not finite here (or too large to square) would spoil every row: skip centring.
                    if (float.IsFinite(TensorPrimitives.SumOfSquares(referenceSource)))
                    {
                        referenceSource.CopyTo(referenceSpan);
                    }
                }

                int candidates = 0;
                for (int r = 0; r < m; r++)
                {
                    if (nonFinite[r])
                    {
                        continue;
                    }

                    var source = data.AsSpan(rows[r] * d + start, width);
                    float square = CopyCentered(source, tile.AsSpan(r * tileWidth, padded), referenceSpan);
                    if (float.IsFinite(square))
                    {
                        squares[candidates] = square;
                        order[candidates++] = r;
                    }
                    else if (!NonFinite.AllFinite(source))
                    {
                        nonFinite[r] = true;
                        tile.AsSpan(r * tileWidth, tileWidth).Clear();
                    }
                }

                // The next tile is centred on this tile's median-norm row: a typical row, so long as most rows are honest.
                referenceRow = MedianRow(squares.AsSpan(0, candidates), order.AsSpan(0, candidates));
                int nextStart = start + tileWidth;
                AccumulateGram(tile, tileWidth, mPad, padded, gram, data, rows, m, d, nextStart, t + 1 < lastTile ? Math.Min(tileWidth, d - nextStart) : 0);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tile);
            ArrayPool<float>.Shared.Return(reference);
            ArrayPool<float>.Shared.Return(squares);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>
    /// The AVX-512 pass without the tile copy: the micro-kernels read the rows where they lie in the batch (prefetched
    /// during the previous tile) and subtract the reference in registers, so each value is loaded from memory once
    /// and no 512 KiB tile is written and read back. The centred values, and so the sums, are the same as the copying
    /// pass's. The per-tile squared norms that pick the next reference and flag non-finite rows come from the Gram
    /// diagonal itself (its growth over the tile: ‖xᵢ − r‖² on that tile), so they cost nothing extra. A row holding
    /// NaN or ±∞ only spoils its own Gram entries, which are never read once it is flagged. The last &lt;16 columns
    /// of d are centred into a small zero-padded tile.
    /// </summary>
    private static unsafe void AccumulateTilesInPlace(GradientBatch batch, int[] rows, int m, int tileWidth, int firstTile, int lastTile, Span<double> gram, Span<bool> nonFinite)
    {
        int mPad = (m + Block - 1) / Block * Block;
        var zeros = ArrayPool<float>.Shared.Rent(tileWidth);
        var reference = ArrayPool<float>.Shared.Rent(tileWidth);
        var tail = ArrayPool<float>.Shared.Rent(mPad * 16);
        var squares = ArrayPool<float>.Shared.Rent(m);
        var order = ArrayPool<int>.Shared.Rent(m);
        var before = ArrayPool<double>.Shared.Rent(m);
        var pointers = ArrayPool<nint>.Shared.Rent(2 * mPad);
        try
        {
            Array.Clear(zeros, 0, tileWidth);
            var data = batch.Buffer;
            int d = batch.Dimension;
            int referenceRow = FirstReference(data, rows, m, d, tileWidth, firstTile * tileWidth, squares, order);
            fixed (float* source = data)
            fixed (float* zeroPointer = zeros)
            fixed (float* referencePointer = reference)
            fixed (float* tailPointer = tail)
            fixed (nint* rowPointers = pointers)
            fixed (double* g = gram)
            {
                nint* tailRows = rowPointers + mPad;
                for (int t = firstTile; t < lastTile; t++)
                {
                    int start = t * tileWidth;
                    int width = Math.Min(tileWidth, d - start);
                    int whole = width & ~15;
                    var referenceSpan = reference.AsSpan(0, (width + 15) & ~15);
                    referenceSpan.Clear();
                    if (referenceRow >= 0)
                    {
                        var referenceSource = data.AsSpan(rows[referenceRow] * d + start, width);
                        // A reference that is not finite here (or too large to square) would spoil every row: skip centring.
                        if (float.IsFinite(TensorPrimitives.SumOfSquares(referenceSource)))
                        {
                            referenceSource.CopyTo(referenceSpan);
                        }
                    }

                    for (int r = 0; r < mPad; r++)
                    {
                        // Padding rows read zeros; their entries are never used.
                        rowPointers[r] = r < m ? (nint)(source + (long)rows[r] * d + start) : (nint)zeroPointer;
                    }

                    for (int r = 0; r < m; r++)
                    {
                        before[r] = g[r * mPad + r];
                    }

                    int nextStart = start + tileWidth;
                    int nextWidth = t + 1 < lastTile ? Math.Min(tileWidth, d - nextStart) : 0;
                    AccumulateGramInPlace((float**)rowPointers, referencePointer, mPad, whole, g, source, rows, m, d, nextStart, nextWidth);
                    if (whole < width)
                    {
                        for (int r = 0; r < mPad; r++)
                        {
                            var centred = new Span<float>(tailPointer + r * 16, 16);
                            centred.Clear();
                            if (r < m)
                            {
                                TensorPrimitives.Subtract(data.AsSpan(rows[r] * d + start + whole, width - whole), reference.AsSpan(whole, width - whole), centred[..(width - whole)]);
                            }

                            tailRows[r] = (nint)(tailPointer + r * 16);
                        }

                        AccumulateGramInPlace((float**)tailRows, zeroPointer, mPad, 16, g, source, rows, m, d, 0, 0);
                    }

                    int candidates = 0;
                    for (int r = 0; r < m; r++)
                    {
                        if (nonFinite[r])
                        {
                            continue;
                        }

                        double square = g[r * mPad + r] - before[r];
                        if (double.IsFinite(square) && float.IsFinite((float)square))
                        {
                            squares[candidates] = (float)square;
                            order[candidates++] = r;
                        }
                        else if (!NonFinite.AllFinite(data.AsSpan(rows[r] * d + start, width)))
                        {
                            nonFinite[r] = true;
                        }
                    }

                    // The next tile is centred on this tile's median row by distance to the current reference: a typical
                    // row, so long as most rows are honest.
                    referenceRow = MedianRow(squares.AsSpan(0, candidates), order.AsSpan(0, candidates));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(zeros);
            ArrayPool<float>.Shared.Return(reference);
            ArrayPool<float>.Shared.Return(tail);
            ArrayPool<float>.Shared.Return(squares);
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<double>.Shared.Return(before);
            ArrayPool<nint>.Shared.Return(pointers);
        }
    }

    private static unsafe void AccumulateGramInPlace(float** rowPointers, float* reference, int mPad, int width, double* g, float* source, int[] rows, int m, int d, int nextStart, int nextWidth)
    {
        int blocks = mPad / Block * (mPad / Block + 1) / 2;
        int linesPerRow = (nextWidth + 15) / 16;
        int linesPerBlock = (linesPerRow * m + blocks - 1) / blocks;
        int prefetchRow = 0, prefetchLine = 0;
        for (int bi = 0; bi < mPad; bi += Block)
        {
            for (int bj = bi; bj < mPad; bj += Block)
            {
                if (Sse.IsSupported)
                {
                    float* line = source + (long)(prefetchRow < m ? rows[prefetchRow] : 0) * d + nextStart + prefetchLine * 16;
                    for (int issued = 0; issued < linesPerBlock && prefetchRow < m; issued++)
                    {
                        Sse.Prefetch0(line);
                        line += 16;
                        if (++prefetchLine == linesPerRow)
                        {
                            prefetchLine = 0;
                            prefetchRow++;
                            line = source + (long)(prefetchRow < m ? rows[prefetchRow] : 0) * d + nextStart;
                        }
                    }
                }

                double* target = g + bi * mPad + bj;
                if (bi == bj)
                {
                    CenteredDiagonal512(rowPointers + bi, reference, width, target, mPad);
                }
                else
                {
                    CenteredBlock512(rowPointers + bi, rowPointers + bj, reference, width, target, mPad);
                }
            }
        }
    }

    // The in-place micro-kernels: as Block512 and Diagonal512, on row pointers, with (x − r) formed in registers.
    private static unsafe void CenteredBlock512(float** a, float** b, float* reference, int width, double* target, int stride)
    {
        float* a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
        float* b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int k = 0; k < width; k += 16)
        {
            var r = Vector512.Load(reference + k);
            var y0 = Vector512.Load(b0 + k) - r;
            var y1 = Vector512.Load(b1 + k) - r;
            var y2 = Vector512.Load(b2 + k) - r;
            var y3 = Vector512.Load(b3 + k) - r;
            var x = Vector512.Load(a0 + k) - r;
            c00 = Vector512.FusedMultiplyAdd(x, y0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, y1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, y2, c02);
            c03 = Vector512.FusedMultiplyAdd(x, y3, c03);
            x = Vector512.Load(a1 + k) - r;
            c10 = Vector512.FusedMultiplyAdd(x, y0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, y1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, y2, c12);
            c13 = Vector512.FusedMultiplyAdd(x, y3, c13);
            x = Vector512.Load(a2 + k) - r;
            c20 = Vector512.FusedMultiplyAdd(x, y0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, y1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, y2, c22);
            c23 = Vector512.FusedMultiplyAdd(x, y3, c23);
            x = Vector512.Load(a3 + k) - r;
            c30 = Vector512.FusedMultiplyAdd(x, y0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, y1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, y2, c32);
            c33 = Vector512.FusedMultiplyAdd(x, y3, c33);
        }

        Flush(target, Vector512.Sum(c00), Vector512.Sum(c01), Vector512.Sum(c02), Vector512.Sum(c03));
        Flush(target + stride, Vector512.Sum(c10), Vector512.Sum(c11), Vector512.Sum(c12), Vector512.Sum(c13));
        Flush(target + 2 * stride, Vector512.Sum(c20), Vector512.Sum(c21), Vector512.Sum(c22), Vector512.Sum(c23));
        Flush(target + 3 * stride, Vector512.Sum(c30), Vector512.Sum(c31), Vector512.Sum(c32), Vector512.Sum(c33));
    }

    private static unsafe void CenteredDiagonal512(float** a, float* reference, int width, double* target, int stride)
    {
        float* a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c11 = default, c12 = default, c13 = default;
        Vector512<float> c22 = default, c23 = default, c33 = default;
        for (int k = 0; k < width; k += 16)
        {
            var r = Vector512.Load(reference + k);
            var x0 = Vector512.Load(a0 + k) - r;
            var x1 = Vector512.Load(a1 + k) - r;
            var x2 = Vector512.Load(a2 + k) - r;
            var x3 = Vector512.Load(a3 + k) - r;
            c00 = Vector512.FusedMultiplyAdd(x0, x0, c00);
            c01 = Vector512.FusedMultiplyAdd(x0, x1, c01);
            c02 = Vector512.FusedMultiplyAdd(x0, x2, c02);
            c03 = Vector512.FusedMultiplyAdd(x0, x3, c03);
            c11 = Vector512.FusedMultiplyAdd(x1, x1, c11);
            c12 = Vector512.FusedMultiplyAdd(x1, x2, c12);
            c13 = Vector512.FusedMultiplyAdd(x1, x3, c13);
            c22 = Vector512.FusedMultiplyAdd(x2, x2, c22);
            c23 = Vector512.FusedMultiplyAdd(x2, x3, c23);
            c33 = Vector512.FusedMultiplyAdd(x3, x3, c33);
        }

        Flush(target, Vector512.Sum(c00), Vector512.Sum(c01), Vector512.Sum(c02), Vector512.Sum(c03));
        target[stride + 1] += Vector512.Sum(c11);
        target[stride + 2] += Vector512.Sum(c12);
        target[stride + 3] += Vector512.Sum(c13);
        target[2 * stride + 2] += Vector512.Sum(c22);
        target[2 * stride + 3] += Vector512.Sum(c23);
        target[3 * stride + 3] += Vector512.Sum(c33);
    }

    // The median-norm row of the first tile, found by one extra read of that tile only.
    private static int FirstReference(float[] data, int[] rows, int m, int d, int tileWidth, int start, float[] squares, int[] order)
    {
        if (start >= d)
        {
            return -1;
        }

        int width = Math.Min(tileWidth, d - start);
        int candidates = 0;
        for (int r = 0; r < m; r++)
        {
            float square = TensorPrimitives.SumOfSquares<float>(data.AsSpan(rows[r] * d + start, width));
            if (float.IsFinite(square))
            {
                squares[candidates] = square;
                order[candidates++] = r;
            }
        }

        return MedianRow(squares.AsSpan(0, candidates), order.AsSpan(0, candidates));
    }

    private static int MedianRow(Span<float> squares, Span<int> order)
    {
        if (squares.Length == 0)
        {
            return -1;
        }

        squares.Sort(order);
        return order[squares.Length / 2];
    }

    /// <summary>
    /// destination = source − reference (zero-padded to destination's length); returns Σ source² in float, which is
    /// finite exactly when every value is finite and not too large to square.
    /// </summary>
    private static unsafe float CopyCentered(ReadOnlySpan<float> source, Span<float> destination, ReadOnlySpan<float> reference)
    {
        int width = source.Length;
        if (!Vector512.IsHardwareAccelerated || KernelSettings.WidthLimit < 16)
        {
            TensorPrimitives.Subtract(source, reference[..width], destination[..width]);
            destination[width..].Clear();
            return TensorPrimitives.SumOfSquares(source);
        }

        fixed (float* s = source)
        fixed (float* t = destination)
        fixed (float* r = reference)
        {
            var sum0 = Vector512<float>.Zero;
            var sum1 = Vector512<float>.Zero;
            int k = 0;
            for (; k + 32 <= width; k += 32)
            {
                var a = Vector512.Load(s + k);
                var b = Vector512.Load(s + k + 16);
                (a - Vector512.Load(r + k)).Store(t + k);
                (b - Vector512.Load(r + k + 16)).Store(t + k + 16);
                sum0 = Vector512.FusedMultiplyAdd(a, a, sum0);
                sum1 = Vector512.FusedMultiplyAdd(b, b, sum1);
            }

            float sum = Vector512.Sum(sum0 + sum1);
            for (; k < width; k++)
            {
                t[k] = s[k] - r[k];
                sum += s[k] * s[k];
            }

            for (; k < destination.Length; k++)
            {
                t[k] = 0;
            }

            return sum;
        }
    }

    private static unsafe void AccumulateGram(float[] tile, int tileWidth, int mPad, int width, Span<double> gram, float[] data, int[] rows, int m, int d, int nextStart, int nextWidth)
    {
        // While this tile is multiplied, the next tile's rows are requested (one prefetch per cache line, spread over the
        // block pairs), so that copying it overlaps with arithmetic instead of waiting on memory.
        int blocks = mPad / Block * (mPad / Block + 1) / 2;
        int linesPerRow = (nextWidth + 15) / 16;
        int linesPerBlock = (linesPerRow * m + blocks - 1) / blocks;
        int prefetchRow = 0, prefetchLine = 0;
        fixed (float* source = data)
        fixed (float* basePointer = tile)
        fixed (double* g = gram)
        {
            for (int bi = 0; bi < mPad; bi += Block)
            {
                for (int bj = bi; bj < mPad; bj += Block)
                {
                    if (Sse.IsSupported)
                    {
                        float* line = source + (long)(prefetchRow < m ? rows[prefetchRow] : 0) * d + nextStart + prefetchLine * 16;
                        for (int issued = 0; issued < linesPerBlock && prefetchRow < m; issued++)
                        {
                            Sse.Prefetch0(line);
                            line += 16;
                            if (++prefetchLine == linesPerRow)
                            {
                                prefetchLine = 0;
                                prefetchRow++;
                                line = source + (long)(prefetchRow < m ? rows[prefetchRow] : 0) * d + nextStart;
                            }
                        }
                    }

                    float* a = basePointer + bi * tileWidth;
                    float* b = basePointer + bj * tileWidth;
                    double* target = g + bi * mPad + bj;
                    // The register width follows KernelSettings.WidthLimit, so tests can run the narrower kernels that
                    // machines without AVX-512 use.
                    if (Vector512.IsHardwareAccelerated && KernelSettings.WidthLimit >= 16)
                    {
                        if (bi == bj)
                        {
                            Diagonal512(a, tileWidth, width, target, mPad);
                        }
                        else
                        {
                            Block512(a, b, tileWidth, width, target, mPad);
                        }
                    }
                    else if (Vector256.IsHardwareAccelerated && KernelSettings.WidthLimit >= 8)
                    {
                        Block256(a, b, tileWidth, width, target, mPad);
                    }
                    else
                    {
                        BlockScalar(a, b, tileWidth, width, target, mPad);
                    }
                }
            }
        }
    }

    // The 4×4 micro-kernels: rows a0..a3 against rows b0..b3 over one tile, 16 accumulators kept in registers
    // (8 loads feed 16 FMAs). Width is a multiple of 16, so no tail handling is needed.
    private static unsafe void Block512(float* a, float* b, int rowStride, int width, double* target, int stride)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int k = 0; k < width; k += 16)
        {
            var y0 = Vector512.Load(b + k);
            var y1 = Vector512.Load(b + rowStride + k);
            var y2 = Vector512.Load(b + 2 * rowStride + k);
            var y3 = Vector512.Load(b + 3 * rowStride + k);
            var x = Vector512.Load(a + k);
            c00 = Vector512.FusedMultiplyAdd(x, y0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, y1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, y2, c02);
            c03 = Vector512.FusedMultiplyAdd(x, y3, c03);
            x = Vector512.Load(a + rowStride + k);
            c10 = Vector512.FusedMultiplyAdd(x, y0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, y1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, y2, c12);
            c13 = Vector512.FusedMultiplyAdd(x, y3, c13);
            x = Vector512.Load(a + 2 * rowStride + k);
            c20 = Vector512.FusedMultiplyAdd(x, y0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, y1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, y2, c22);
            c23 = Vector512.FusedMultiplyAdd(x, y3, c23);
            x = Vector512.Load(a + 3 * rowStride + k);
            c30 = Vector512.FusedMultiplyAdd(x, y0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, y1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, y2, c32);
            c33 = Vector512.FusedMultiplyAdd(x, y3, c33);
        }

        Flush(target, Vector512.Sum(c00), Vector512.Sum(c01), Vector512.Sum(c02), Vector512.Sum(c03));
        Flush(target + stride, Vector512.Sum(c10), Vector512.Sum(c11), Vector512.Sum(c12), Vector512.Sum(c13));
        Flush(target + 2 * stride, Vector512.Sum(c20), Vector512.Sum(c21), Vector512.Sum(c22), Vector512.Sum(c23));
        Flush(target + 3 * stride, Vector512.Sum(c30), Vector512.Sum(c31), Vector512.Sum(c32), Vector512.Sum(c33));
    }

    // A diagonal block (rows a0..a3 against themselves): only the 10 pairs i ≤ j, from 4 loads per step instead of 8
    // loads feeding 16 FMAs. Each lane sums the same products in the same order as Block512, so results are identical.
    private static unsafe void Diagonal512(float* a, int rowStride, int width, double* target, int stride)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c11 = default, c12 = default, c13 = default;
        Vector512<float> c22 = default, c23 = default, c33 = default;
        for (int k = 0; k < width; k += 16)
        {
            var x0 = Vector512.Load(a + k);
            var x1 = Vector512.Load(a + rowStride + k);
            var x2 = Vector512.Load(a + 2 * rowStride + k);
            var x3 = Vector512.Load(a + 3 * rowStride + k);
            c00 = Vector512.FusedMultiplyAdd(x0, x0, c00);
            c01 = Vector512.FusedMultiplyAdd(x0, x1, c01);
            c02 = Vector512.FusedMultiplyAdd(x0, x2, c02);
            c03 = Vector512.FusedMultiplyAdd(x0, x3, c03);
            c11 = Vector512.FusedMultiplyAdd(x1, x1, c11);
            c12 = Vector512.FusedMultiplyAdd(x1, x2, c12);
            c13 = Vector512.FusedMultiplyAdd(x1, x3, c13);
            c22 = Vector512.FusedMultiplyAdd(x2, x2, c22);
            c23 = Vector512.FusedMultiplyAdd(x2, x3, c23);
            c33 = Vector512.FusedMultiplyAdd(x3, x3, c33);
        }

        Flush(target, Vector512.Sum(c00), Vector512.Sum(c01), Vector512.Sum(c02), Vector512.Sum(c03));
        target[stride + 1] += Vector512.Sum(c11);
        target[stride + 2] += Vector512.Sum(c12);
        target[stride + 3] += Vector512.Sum(c13);
        target[2 * stride + 2] += Vector512.Sum(c22);
        target[2 * stride + 3] += Vector512.Sum(c23);
        target[3 * stride + 3] += Vector512.Sum(c33);
    }

    private static unsafe void Block256(float* a, float* b, int rowStride, int width, double* target, int stride)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int k = 0; k < width; k += 8)
        {
            var y0 = Vector256.Load(b + k);
            var y1 = Vector256.Load(b + rowStride + k);
            var y2 = Vector256.Load(b + 2 * rowStride + k);
            var y3 = Vector256.Load(b + 3 * rowStride + k);
            var x = Vector256.Load(a + k);
            c00 = Vector256.FusedMultiplyAdd(x, y0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, y1, c01);
            c02 = Vector256.FusedMultiplyAdd(x, y2, c02);
            c03 = Vector256.FusedMultiplyAdd(x, y3, c03);
            x = Vector256.Load(a + rowStride + k);
            c10 = Vector256.FusedMultiplyAdd(x, y0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, y1, c11);
            c12 = Vector256.FusedMultiplyAdd(x, y2, c12);
            c13 = Vector256.FusedMultiplyAdd(x, y3, c13);
            x = Vector256.Load(a + 2 * rowStride + k);
            c20 = Vector256.FusedMultiplyAdd(x, y0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, y1, c21);
            c22 = Vector256.FusedMultiplyAdd(x, y2, c22);
            c23 = Vector256.FusedMultiplyAdd(x, y3, c23);
            x = Vector256.Load(a + 3 * rowStride + k);
            c30 = Vector256.FusedMultiplyAdd(x, y0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, y1, c31);
            c32 = Vector256.FusedMultiplyAdd(x, y2, c32);
            c33 = Vector256.FusedMultiplyAdd(x, y3, c33);
        }

        Flush(target, Vector256.Sum(c00), Vector256.Sum(c01), Vector256.Sum(c02), Vector256.Sum(c03));
        Flush(target + stride, Vector256.Sum(c10), Vector256.Sum(c11), Vector256.Sum(c12), Vector256.Sum(c13));
        Flush(target + 2 * stride, Vector256.Sum(c20), Vector256.Sum(c21), Vector256.Sum(c22), Vector256.Sum(c23));
        Flush(target + 3 * stride, Vector256.Sum(c30), Vector256.Sum(c31), Vector256.Sum(c32), Vector256.Sum(c33));
    }

    private static unsafe void BlockScalar(float* a, float* b, int rowStride, int width, double* target, int stride)
    {
        for (int i = 0; i < Block; i++)
        {
            for (int j = 0; j < Block; j++)
            {
                float sum = 0;
                for (int k = 0; k < width; k++)
                {
                    sum += a[i * rowStride + k] * b[j * rowStride + k];
                }

                target[i * stride + j] += sum;
            }
        }
    }

    private static unsafe void Flush(double* target, float s0, float s1, float s2, float s3)
    {
        target[0] += s0;
        target[1] += s1;
        target[2] += s2;
        target[3] += s3;
    }
}

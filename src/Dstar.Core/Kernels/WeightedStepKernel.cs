namespace Dstar.Core.Kernels;

/// <summary>
/// Per coordinate, c + Σᵢ wᵢ (xᵢ − c) with c the row pointer after the data rows (centered clipping's step), or, when
/// not <paramref name="centered"/>, the weighted sum Σᵢ wᵢ xᵢ (no centre pointer). Output may be the centre itself: each
/// block reads c before writing.
/// </summary>
internal unsafe struct WeightedStepKernel(int rows, float* weights, bool streaming = true, bool centered = true) : IColumnKernel<WeightedStepKernel>
{
    private readonly int _compiled = UnrolledNetworks.Step(rows, streaming, centered);
    private float* _check;

    public readonly bool HasCompiled => _compiled >= 0;

    public readonly void RunCompiled(float** rowPointers, nint start, nint end, float* output) =>
        UnrolledNetworks.Get(_compiled)(rowPointers, start, end, output, _check, weights);

    public readonly int ScratchFloats => ColumnTiles.MaxWidth;

    public readonly WeightedStepKernel Bind(float* scratch)
    {
        var bound = this;
        bound._check = scratch;
        new Span<float>(scratch, ColumnTiles.MaxWidth).Clear();
        return bound;
    }

    public readonly void Block<TLanes, TVec>(float** rowPointers, nint column, float* output)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
        var zero = TLanes.Broadcast(0f);
        var center = centered ? TLanes.Load(rowPointers[rows] + column) : zero;
        TVec even = zero, odd = zero;
        int r = 0;
        for (; r + 2 <= rows; r += 2)
        {
            even = TLanes.MultiplyAdd(TLanes.Subtract(TLanes.Load(rowPointers[r] + column), center), TLanes.Broadcast(weights[r]), even);
            odd = TLanes.MultiplyAdd(TLanes.Subtract(TLanes.Load(rowPointers[r + 1] + column), center), TLanes.Broadcast(weights[r + 1]), odd);
        }

        if (r < rows)
        {
            even = TLanes.MultiplyAdd(TLanes.Subtract(TLanes.Load(rowPointers[r] + column), center), TLanes.Broadcast(weights[r]), even);
        }

        var sum = TLanes.Add(even, odd);
        TLanes.Store(centered ? TLanes.Add(center, sum) : sum, output);
    }

    public readonly void Flush<TLanes, TVec>()
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
    }
}

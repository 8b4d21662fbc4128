namespace Dstar.Core.Kernels;

/// <summary>Per coordinate, (Σ rows)·scale: the mean when scale = 1/rows.</summary>
internal unsafe struct RowSumKernel(int rows, float scale, bool streaming = true) : IColumnKernel<RowSumKernel>
{
    private readonly int _compiled = UnrolledNetworks.RowSum(rows, scale, streaming);
    private float* _check;

    public readonly bool HasCompiled => _compiled >= 0;

    public readonly void RunCompiled(float** rowPointers, nint start, nint end, float* output) =>
        UnrolledNetworks.Get(_compiled)(rowPointers, start, end, output, _check, null);

    public readonly int ScratchFloats => (rows + 1) * ColumnTiles.MaxWidth;

    /// <summary>False when a value was non-finite (or a sum overflowed).</summary>
    public readonly bool Finite => ColumnKernelParts.CheckPassed(_check);

    public readonly RowSumKernel Bind(float* scratch)
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
        var values = (TVec*)(_check + ColumnTiles.MaxWidth);
        var sum = ColumnKernelParts.LoadAndSum<TLanes, TVec>(rowPointers, column, rows, values);
        ColumnKernelParts.Check<TLanes, TVec>(sum, _check);
        TLanes.Store(TLanes.Multiply(sum, TLanes.Broadcast(scale)), output);
    }

    public readonly void Flush<TLanes, TVec>()
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged
    {
    }
}

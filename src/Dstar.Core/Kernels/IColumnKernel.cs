using System.Buffers;

namespace Dstar.Core.Kernels;

/// <summary>
/// One pass of a column kernel: the kernel sees one register of columns (16 with AVX-512) of every row at a time and
/// keeps its working set in a small scratch area that stays in L1.
/// </summary>
/// <remarks>
/// Implementations are unmanaged structs holding pointers into the scratch the driver gives them, so that one pass
/// allocates nothing (scratch comes from <see cref="ArrayPool{T}"/>) and each parallel worker owns its copy.
/// </remarks>
internal unsafe interface IColumnKernel<TSelf>
    where TSelf : unmanaged, IColumnKernel<TSelf>
{
    /// <summary>Scratch floats one worker needs, for registers of at most <see cref="ColumnTiles.MaxWidth"/> lanes.</summary>
    int ScratchFloats { get; }

    /// <summary>A copy of this kernel bound to (and initialising) one worker's scratch.</summary>
    TSelf Bind(float* scratch);

    /// <summary>Processes the columns [column, column + Width) of every row; writes Width outputs when output is not null.</summary>
    void Block<TLanes, TVec>(float** rows, nint column, float* output)
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged;

    /// <summary>True when an AVX-512 range compiled for this kernel's shape exists (see <see cref="UnrolledNetworks"/>).</summary>
    bool HasCompiled { get; }

    /// <summary>Runs the compiled range over the whole 16-column blocks of [start, end).</summary>
    void RunCompiled(float** rows, nint start, nint end, float* output);

    /// <summary>Moves register accumulators into double sums; called every few blocks and at the end of a range.</summary>
    void Flush<TLanes, TVec>()
        where TLanes : struct, ISimdLanes<TVec>
        where TVec : unmanaged;
}

namespace Dstar.Core.Kernels;

/// <summary>
/// The few lane-wise float operations the column kernels use, over one register type <typeparamref name="TVec"/>.
/// Kernels are written once, generic over this interface; the JIT specialises them per struct
/// (<see cref="Lanes512"/>, <see cref="Lanes256"/>, <see cref="Lanes1"/>) so each call inlines to one instruction.
/// </summary>
/// <remarks>
/// Min and Max are the native instructions: with a NaN operand their result is unspecified, which is why the kernels
/// detect non-finite input on the loads, never on the outputs of a comparator network.
/// </remarks>
internal unsafe interface ISimdLanes<TVec>
    where TVec : unmanaged
{
    /// <summary>Floats per register.</summary>
    static abstract int Width { get; }

    static abstract TVec Load(float* source);

    static abstract void Store(TVec value, float* destination);

    static abstract TVec Broadcast(float value);

    static abstract TVec Min(TVec a, TVec b);

    static abstract TVec Max(TVec a, TVec b);

    static abstract TVec Add(TVec a, TVec b);

    static abstract TVec Subtract(TVec a, TVec b);

    static abstract TVec Multiply(TVec a, TVec b);

    /// <summary>a·b + c (fused where the hardware has it).</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    /// <summary>Per lane: a &lt; b ? x : y.</summary>
    static abstract TVec SelectLess(TVec a, TVec b, TVec x, TVec y);

    /// <summary>The lanes' sum, accumulated in double.</summary>
    static abstract double SumToDouble(TVec value);
}

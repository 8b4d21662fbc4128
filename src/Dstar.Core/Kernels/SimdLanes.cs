using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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

/// <summary>AVX-512: 16 floats per register.</summary>
internal unsafe struct Lanes512 : ISimdLanes<Vector512<float>>
{
    public static int Width => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Vector512.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SelectLess(Vector512<float> a, Vector512<float> b, Vector512<float> x, Vector512<float> y) =>
        Vector512.ConditionalSelect(Vector512.LessThan(a, b), x, y);

    public static double SumToDouble(Vector512<float> value) =>
        Lanes256.SumToDouble(value.GetLower()) + Lanes256.SumToDouble(value.GetUpper());
}

/// <summary>AVX2 / NEON-pair: 8 floats per register (used when AVX-512 is absent).</summary>
internal unsafe struct Lanes256 : ISimdLanes<Vector256<float>>
{
    public static int Width => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.MinNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Vector256.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SelectLess(Vector256<float> a, Vector256<float> b, Vector256<float> x, Vector256<float> y) =>
        Vector256.ConditionalSelect(Vector256.LessThan(a, b), x, y);

    public static double SumToDouble(Vector256<float> value)
    {
        double sum = 0;
        for (int i = 0; i < 8; i++)
        {
            sum += value.GetElement(i);
        }

        return sum;
    }
}

/// <summary>Scalar fallback: one float per "register" (no SIMD hardware).</summary>
internal unsafe struct Lanes1 : ISimdLanes<float>
{
    public static int Width => 1;

    public static float Load(float* source) => *source;

    public static void Store(float value, float* destination) => *destination = value;

    public static float Broadcast(float value) => value;

    public static float Min(float a, float b) => a < b ? a : b;

    public static float Max(float a, float b) => a > b ? a : b;

    public static float Add(float a, float b) => a + b;

    public static float Subtract(float a, float b) => a - b;

    public static float Multiply(float a, float b) => a * b;

    public static float MultiplyAdd(float a, float b, float c) => a * b + c;

    public static float SelectLess(float a, float b, float x, float y) => a < b ? x : y;

    public static double SumToDouble(float value) => value;
}

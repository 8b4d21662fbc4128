namespace Dstar.Core.Kernels;

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

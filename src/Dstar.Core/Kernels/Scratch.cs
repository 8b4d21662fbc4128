namespace Dstar.Core.Kernels;

/// <summary>
/// Scratch arrays a rule or attack keeps from one call to the next, so that steady-state calls allocate nothing.
/// </summary>
internal static class Scratch
{
    /// <summary>
    /// Makes <paramref name="buffer"/> hold at least <paramref name="length"/> values, replacing it only when it is
    /// shorter; callers slice it to the length they need (for per-call counts that vary, such as the finite rows).
    /// </summary>
    public static void AtLeast<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }
    }

    /// <summary>
    /// Returns <paramref name="buffer"/> when it holds exactly <paramref name="length"/> values, else a new array of that
    /// length, which it also stores in <paramref name="buffer"/> for the next call (for spans that must be d long).
    /// </summary>
    public static T[] Exactly<T>(ref T[]? buffer, int length)
    {
        if (buffer is null || buffer.Length != length)
        {
            buffer = new T[length];
        }

        return buffer;
    }
}

namespace Dstar.Cli.Npy;

/// <summary>The element types dstar reads from <c>.npy</c> files: IEEE float32 or float64, in either byte order.</summary>
public enum NpyElementType
{
    /// <summary>4-byte IEEE 754 float (<c>f4</c>).</summary>
    Float32,

    /// <summary>8-byte IEEE 754 float (<c>f8</c>).</summary>
    Float64,
}

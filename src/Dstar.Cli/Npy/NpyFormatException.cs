namespace Dstar.Cli.Npy;

/// <summary>
/// A <c>.npy</c> file could not be read or does not have the expected shape. The message is one line that names the
/// file and the problem (for example "g.npy: fortran_order arrays are not supported; save with np.ascontiguousarray").
/// </summary>
public sealed class NpyFormatException(string message) : Exception(message);

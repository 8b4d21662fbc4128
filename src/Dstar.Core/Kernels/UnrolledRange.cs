namespace Dstar.Core.Kernels;

/// <summary>
/// Processes whole 16-column blocks in [start, end): rows[i] + column are the inputs, output + column the result,
/// check a running finiteness register, accumulators one register per row (deviation sums), both read on entry and
/// written back on exit.
/// </summary>
internal unsafe delegate void UnrolledRange(float** rows, nint start, nint end, float* output, float* check, float* accumulators);

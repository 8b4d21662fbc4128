namespace Dstar.Engine.Checkpoints;

/// <summary>
/// The state a run needs to continue exactly: the version t (rounds done), x_t, the optimizer's momentum buffer, the
/// previous aggregate (centered clipping), the virtual time so far, and the seed. Random generators are not stored:
/// each round's generators derive from (seed, round, purpose) (<see cref="Randomness.RandomStreams"/>), so the seed and
/// t restore them exactly.
/// </summary>
/// <param name="Round">t: rounds completed; the next round to run.</param>
/// <param name="Seed">The run seed (checked on resume).</param>
/// <param name="VirtualSeconds">Transport time at the end of round t − 1.</param>
/// <param name="Parameters">x_t.</param>
/// <param name="Velocity">SGD's momentum buffer.</param>
/// <param name="HasVelocity">Whether the momentum buffer is initialised.</param>
/// <param name="PreviousAggregate">The aggregate of round t − 1, or null before the first step.</param>
public sealed record Checkpoint(
    long Round,
    int Seed,
    double VirtualSeconds,
    float[] Parameters,
    float[] Velocity,
    bool HasVelocity,
    float[]? PreviousAggregate);

/// <summary>A checkpoint file is missing, truncated, corrupt or does not fit the run; the message names the file and the problem.</summary>
public sealed class CheckpointException(string message) : Exception(message);

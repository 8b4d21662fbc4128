namespace Dstar.Engine.Checkpoints;

/// <summary>
/// The state a run needs to continue exactly: the version t (rounds done), x_t, the optimizer's momentum buffer, the
/// previous aggregate (centered clipping), the virtual time so far, the seed, and the sections of the components that
/// keep state between rounds (<see cref="CheckpointSection"/>: the <c>k: auto</c> window, dSTAR's reputation, the
/// simulated workers' momenta). Random generators are not stored: each round's generators derive from (seed, round,
/// purpose) (<see cref="Randomness.RandomStreams"/>), so the seed and t restore them exactly.
/// </summary>
/// <param name="Round">t: rounds completed; the next round to run.</param>
/// <param name="Seed">The run seed (checked on resume).</param>
/// <param name="VirtualSeconds">Transport time at the end of round t − 1.</param>
/// <param name="Parameters">x_t.</param>
/// <param name="Velocity">SGD's momentum buffer.</param>
/// <param name="HasVelocity">Whether the momentum buffer is initialised.</param>
/// <param name="PreviousAggregate">The aggregate of round t − 1, or null before the first step.</param>
/// <param name="Sections">The components' state, at most one section of each kind (null: none).</param>
/// <param name="Format">The file format it was read from (<see cref="CheckpointFile.FormatVersion"/> when written by this dstar).</param>
public sealed record Checkpoint(
    long Round,
    int Seed,
    double VirtualSeconds,
    float[] Parameters,
    float[] Velocity,
    bool HasVelocity,
    float[]? PreviousAggregate,
    IReadOnlyList<CheckpointSection>? Sections = null,
    int Format = CheckpointFile.FormatVersion);

/// <summary>The kinds of component state a checkpoint can hold (their numbers are part of the file format).</summary>
public enum CheckpointSectionKind
{
    /// <summary>The <c>k: auto</c> policy's window and the server's bookkeeping for it.</summary>
    AutoK = 1,

    /// <summary>The dstar rule's per-worker reputation (<c>dstar reputation=λ</c>).</summary>
    Reputation = 2,

    /// <summary>The simulated workers' momenta (<c>worker_momentum</c>).</summary>
    WorkerMomentum = 3,
}

/// <summary>One component's state in a checkpoint: its kind and its bytes (the component's own encoding).</summary>
/// <param name="Kind">Which component.</param>
/// <param name="Payload">Its encoded state.</param>
public sealed record CheckpointSection(CheckpointSectionKind Kind, byte[] Payload);

/// <summary>A checkpoint file is missing, truncated, corrupt or does not fit the run; the message names the file and the problem.</summary>
public sealed class CheckpointException(string message) : Exception(message);

namespace Dstar.Engine.Collection;

/// <summary>Why the collector did not use a worker's gradient in a round.</summary>
public enum DropReason
{
    /// <summary>It came after the k-th accepted gradient or after the deadline, or never came before the round closed.</summary>
    Late,

    /// <summary>The worker had already delivered a gradient for this version.</summary>
    Duplicate,

    /// <summary>It was computed at an older parameter version.</summary>
    Stale,

    /// <summary>Wrong length, a NaN or ±∞ value, an unknown worker id, or a version newer than the current one.</summary>
    Malformed,

    /// <summary>The rule's reputation excluded the worker for now (dSTAR <c>reputation=</c>); it does not count towards k.</summary>
    Excluded,
}

/// <summary>One dropped message: who sent it, why it was dropped, and a human-readable detail.</summary>
/// <param name="Worker">The sender (may be outside 0..N−1 when the reason is an unknown id).</param>
/// <param name="Reason">The reason.</param>
/// <param name="Detail">What exactly was wrong, for example "length 9, expected 10".</param>
public readonly record struct Drop(int Worker, DropReason Reason, string Detail);

/// <summary>Lower-case names of <see cref="DropReason"/> as they appear in metrics files.</summary>
public static class DropReasonNames
{
    /// <summary>"late", "duplicate", "stale", "malformed" or "excluded".</summary>
    public static string Name(this DropReason reason) => reason switch
    {
        DropReason.Late => "late",
        DropReason.Duplicate => "duplicate",
        DropReason.Stale => "stale",
        DropReason.Malformed => "malformed",
        DropReason.Excluded => "excluded",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "unknown drop reason"),
    };
}

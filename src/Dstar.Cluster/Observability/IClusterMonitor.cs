using Dstar.Engine.Collection;

namespace Dstar.Cluster.Observability;

/// <summary>
/// What the parameter server tells a watcher about its connections (the live view's cluster panel): workers joining
/// and leaving, gradients arriving, and what it refuses, by reason. Called from the gRPC sessions' threads, on the
/// gradient path too, so an implementation must be quick and thread safe and must never block.
/// </summary>
public interface IClusterMonitor
{
    /// <summary>Worker <paramref name="worker"/> proved its key and joined from <paramref name="peer"/>.</summary>
    void Joined(int worker, string peer);

    /// <summary>Worker <paramref name="worker"/>'s current session ended.</summary>
    void Left(int worker);

    /// <summary>A gradient arrived on worker <paramref name="worker"/>'s session.</summary>
    void Received(int worker);

    /// <summary>
    /// A connection was refused before or during its join: <paramref name="reason"/> is the name counted in
    /// <c>dstar_refused_connections_total</c> (unauthenticated, unregistered, bad-signature, config-mismatch,
    /// join-timeout, malformed); <paramref name="worker"/> is the id it claimed, when it got that far.
    /// </summary>
    void JoinRefused(string reason, int? worker, string peer);

    /// <summary>A gradient from <paramref name="worker"/> was refused; <paramref name="reason"/> is one of <see cref="GradientRefusals"/>' names.</summary>
    void GradientRefused(string reason, int worker);
}

/// <summary>The names of refused gradients, finer than the collector's drop reasons (a malformed gradient says how).</summary>
public static class GradientRefusals
{
    /// <summary>Computed at an older parameter version.</summary>
    public const string StaleVersion = "stale-version";

    /// <summary>Claims a version newer than the current one.</summary>
    public const string FutureVersion = "future-version";

    /// <summary>A second gradient for the same version.</summary>
    public const string Duplicate = "duplicate";

    /// <summary>A worker id outside 0..N−1.</summary>
    public const string UnknownWorker = "unknown-worker";

    /// <summary>Not d values.</summary>
    public const string WrongSize = "wrong-size";

    /// <summary>Holds NaN or ±∞.</summary>
    public const string NonFinite = "non-finite";

    /// <summary>Bytes that are not a whole number of float32 values.</summary>
    public const string NotFloat32 = "not-float32";

    /// <summary>A message larger than the model, refused by gRPC from its length prefix.</summary>
    public const string Oversized = "oversized";

    /// <summary>Malformed in another way.</summary>
    public const string Malformed = "malformed";

    /// <summary>
    /// The refusal name of a collector's drop, or null for drops that are no refusal (late; excluded by the rule's
    /// reputation). A malformed drop is told apart by the collector's detail text (RoundCollector's wording; the
    /// cluster tests run the collector on each case so a change of wording shows up).
    /// </summary>
    public static string? Of(Drop drop) => drop.Reason switch
    {
        DropReason.Stale => StaleVersion,
        DropReason.Duplicate => Duplicate,
        DropReason.Malformed when drop.Detail.StartsWith("unknown worker id", StringComparison.Ordinal) => UnknownWorker,
        DropReason.Malformed when drop.Detail.StartsWith("length ", StringComparison.Ordinal) => WrongSize,
        DropReason.Malformed when drop.Detail.Contains("NaN", StringComparison.Ordinal) => NonFinite,
        DropReason.Malformed when drop.Detail.Contains("newer than", StringComparison.Ordinal) => FutureVersion,
        DropReason.Malformed => Malformed,
        _ => null,
    };
}

/// <summary>A monitor that ignores everything (the server without a view).</summary>
public sealed class NoClusterMonitor : IClusterMonitor
{
    /// <summary>The one instance.</summary>
    public static readonly NoClusterMonitor Instance = new();

    private NoClusterMonitor()
    {
    }

    /// <inheritdoc />
    public void Joined(int worker, string peer)
    {
    }

    /// <inheritdoc />
    public void Left(int worker)
    {
    }

    /// <inheritdoc />
    public void Received(int worker)
    {
    }

    /// <inheritdoc />
    public void JoinRefused(string reason, int? worker, string peer)
    {
    }

    /// <inheritdoc />
    public void GradientRefused(string reason, int worker)
    {
    }
}

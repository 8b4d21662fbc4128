using Dstar.Cluster.Protocol;
using Dstar.Engine.Transport;

namespace Dstar.Cluster.Server;

/// <summary>
/// A message from a worker as the server reads it: a gradient already decoded into floats
/// (<see cref="ReceivedGradient"/>), or any other <see cref="WorkerMessage"/> (Hello, Proof) as protobuf parsed it.
/// The wire format is the one of <c>dstar.proto</c>; only the server's decoding differs (see <see cref="SessionMarshaller"/>).
/// </summary>
internal sealed class WorkerEnvelope
{
    private WorkerEnvelope(WorkerMessage? message, ReceivedGradient? gradient)
    {
        Message = message;
        Gradient = gradient;
    }

    /// <summary>The message when it is not a gradient; null for a gradient.</summary>
    public WorkerMessage? Message { get; }

    /// <summary>The gradient, decoded; null for any other message.</summary>
    public ReceivedGradient? Gradient { get; }

    /// <summary>What the message is, as <see cref="WorkerMessage.BodyCase"/> says it.</summary>
    public WorkerMessage.BodyOneofCase BodyCase => Gradient is not null ? WorkerMessage.BodyOneofCase.Gradient : Message!.BodyCase;

    /// <summary>A message that is not a gradient.</summary>
    public static WorkerEnvelope Of(WorkerMessage message) => new(message, null);

    /// <summary>A decoded gradient.</summary>
    public static WorkerEnvelope Of(ReceivedGradient gradient) => new(null, gradient);
}

/// <summary>
/// A received <c>Gradient{version, data}</c>: the values decoded into <see cref="Values"/> (a pooled buffer of d floats
/// when the length is right), or, when the bytes cannot be values at all, the reason in <see cref="Malformed"/>.
/// </summary>
/// <param name="Version">The version the worker says it computed at.</param>
/// <param name="Values">The decoded values (any length; the collector judges it), empty when malformed.</param>
/// <param name="Pooled">The pooled buffer behind <see cref="Values"/>, to return once the values are used; null otherwise.</param>
/// <param name="Malformed">Why the bytes are not values (for example not a whole number of them), or null.</param>
/// <param name="ComputeSeconds">The worker's reported seconds computing it (0: not reported).</param>
/// <param name="LocalSeconds">The worker's reported seconds from receiving the parameters to sending it (0: not reported).</param>
internal sealed record ReceivedGradient(long Version, ReadOnlyMemory<float> Values, float[]? Pooled, string? Malformed, double ComputeSeconds = 0, double LocalSeconds = 0)
{
    /// <summary>
    /// The refusal of <paramref name="byteCount"/> bytes that are not a whole number of <paramref name="wire"/> values,
    /// or null when they are (the session stream and the upload channel say it in the same words).
    /// </summary>
    public static ReceivedGradient? NotWholeValues(long version, long byteCount, WireFormat wire, int dimension, double computeSeconds, double localSeconds) =>
        byteCount % wire.BytesPerValue() == 0
            ? null
            : new ReceivedGradient(version, ReadOnlyMemory<float>.Empty, null,
                $"{byteCount} bytes is not a whole number of {wire.Name()} values (expected {(long)dimension * wire.BytesPerValue()})", computeSeconds, localSeconds);
}

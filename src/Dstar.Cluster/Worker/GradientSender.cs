using Dstar.Cluster.Protocol;
using Dstar.Cluster.Wire;
using Grpc.Core;

namespace Dstar.Cluster.Worker;

/// <summary>
/// Sends a worker's gradients on its session stream: each one encoded into one reused payload buffer and written as a
/// <see cref="Gradient"/> message. <c>dstar work</c> and <c>dstar bench wire</c> both send through this.
/// </summary>
public sealed class GradientSender
{
    private readonly IClientStreamWriter<WorkerMessage> _stream;
    private readonly byte[] _payload;

    /// <summary>A sender of gradients of <paramref name="dimension"/> values on <paramref name="stream"/>.</summary>
    public GradientSender(IClientStreamWriter<WorkerMessage> stream, int dimension)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        _stream = stream;
        _payload = new byte[dimension * FloatWire.BytesPerValue];
    }

    /// <summary>Encodes <paramref name="gradient"/> and writes it as the gradient for <paramref name="version"/>.</summary>
    /// <exception cref="ArgumentException">the gradient does not have the sender's dimension.</exception>
    public async Task SendAsync(long version, ReadOnlyMemory<float> gradient, CancellationToken cancellationToken)
    {
        // One copy into the reused payload, wrapped without another: WriteAsync has serialised the message by the time
        // it completes, so the buffer is free again for the next gradient.
        FloatWire.Write(gradient.Span, _payload);
        await _stream.WriteAsync(new WorkerMessage
        {
            Gradient = new Gradient { Version = version, Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(_payload) },
        }, cancellationToken).ConfigureAwait(false);
    }
}

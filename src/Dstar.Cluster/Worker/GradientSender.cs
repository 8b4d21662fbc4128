using Dstar.Cluster.Protocol;
using Dstar.Engine.Transport;
using Grpc.Core;

namespace Dstar.Cluster.Worker;

/// <summary>
/// Sends a worker's gradients on its session stream, each as a <c>Gradient</c> message encoded straight into gRPC's
/// outgoing buffer. <c>dstar work</c> and <c>dstar bench wire</c> both send through this.
/// </summary>
public sealed class GradientSender
{
    private readonly IClientStreamWriter<WorkerRequest> _stream;

    /// <summary>A sender of gradients of <paramref name="dimension"/> values on <paramref name="stream"/>, encoded in <paramref name="wire"/>.</summary>
    public GradientSender(IClientStreamWriter<WorkerRequest> stream, int dimension, WireFormat wire = WireFormat.Float32)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        _stream = stream;
        Dimension = dimension;
        Wire = wire;
    }

    /// <summary>How gradients are encoded.</summary>
    public WireFormat Wire { get; }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>
    /// Encodes <paramref name="gradient"/> and writes it as the gradient for <paramref name="version"/>, with the
    /// worker's account of its time (seconds computing it, and from receiving x_version to now; 0: not reported).
    /// </summary>
    /// <exception cref="ArgumentException">the gradient does not have the sender's dimension.</exception>
    public async Task SendAsync(long version, ReadOnlyMemory<float> gradient, CancellationToken cancellationToken, double computeSeconds = 0, double localSeconds = 0)
    {
        if (gradient.Length != Dimension)
        {
            throw new ArgumentException($"the sender sends gradients of d = {Dimension} values, got {gradient.Length}", nameof(gradient));
        }

        // Encoded straight into gRPC's outgoing buffer (WorkerRequest's marshaller): one copy of the gradient on this
        // side. The write has serialised the message by the time it completes, so the caller may then reuse the memory.
        await _stream.WriteAsync(WorkerRequest.Gradient(version, gradient, Wire, computeSeconds, localSeconds), cancellationToken).ConfigureAwait(false);
    }
}

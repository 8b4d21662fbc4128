using Dstar.Cluster.Protocol;
using Dstar.Engine.Transport;
using Grpc.Core;

namespace Dstar.Cluster.Worker;

/// <summary>
/// Sends a worker's gradients: on the session's upload channel when one is open (<see cref="GradientUpload"/>), else on
/// its session stream, each as a <c>Gradient</c> message encoded straight into gRPC's outgoing buffer. Either way the
/// server judges and answers it the same. <c>dstar bench wire</c> sends through this, and so does <c>dstar work</c> on
/// the session stream; a worker with an upload channel calls <see cref="GradientUpload.Send"/> from its rounds thread
/// instead, which writes the same frame.
/// </summary>
public sealed class GradientSender
{
    private readonly IClientStreamWriter<WorkerRequest> _stream;
    private readonly GradientUpload? _upload;

    /// <summary>
    /// A sender of gradients of <paramref name="dimension"/> values, encoded in <paramref name="wire"/>, on
    /// <paramref name="upload"/> when given, else on <paramref name="stream"/>.
    /// </summary>
    /// <exception cref="ArgumentException">the upload was opened for another d or wire format.</exception>
    public GradientSender(IClientStreamWriter<WorkerRequest> stream, int dimension, WireFormat wire = WireFormat.Float32, GradientUpload? upload = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (upload is not null && (upload.Dimension != dimension || upload.Wire != wire))
        {
            throw new ArgumentException($"the upload sends d = {upload.Dimension} in {upload.Wire.Name()}, the sender d = {dimension} in {wire.Name()}", nameof(upload));
        }

        _stream = stream;
        _upload = upload;
        Dimension = dimension;
        Wire = wire;
    }

    /// <summary>True when gradients go on the upload channel.</summary>
    public bool Uploads => _upload is not null;

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

        if (_upload is not null)
        {
            await _upload.SendAsync(version, gradient, cancellationToken, computeSeconds, localSeconds).ConfigureAwait(false);
            return;
        }

        // Encoded straight into gRPC's outgoing buffer (WorkerRequest's marshaller): one copy of the gradient on this
        // side. The write has serialised the message by the time it completes, so the caller may then reuse the memory.
        await _stream.WriteAsync(WorkerRequest.Gradient(version, gradient, Wire, computeSeconds, localSeconds), cancellationToken).ConfigureAwait(false);
    }
}

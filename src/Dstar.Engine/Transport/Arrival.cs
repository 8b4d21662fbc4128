namespace Dstar.Engine.Transport;

/// <summary>
/// One gradient message as the parameter server receives it.
/// </summary>
/// <param name="Worker">The sender's worker id, 0..N−1 (a transport forwards ids it cannot vouch for; the collector rejects unknown ones).</param>
/// <param name="Version">The parameter version t the worker says it computed the gradient at.</param>
/// <param name="Gradient">
/// The gradient values. The memory belongs to the transport and is valid only until the arrival stream advances:
/// the collector copies what it keeps, so a transport may reuse one receive buffer.
/// </param>
/// <param name="Time">
/// Seconds since the transport published the current version, on the transport's clock (virtual seconds for the
/// simulator, wall-clock seconds measured on receipt for a network transport). Arrivals are offered in
/// non-decreasing time within a round.
/// </param>
public readonly record struct Arrival(int Worker, long Version, ReadOnlyMemory<float> Gradient, double Time);

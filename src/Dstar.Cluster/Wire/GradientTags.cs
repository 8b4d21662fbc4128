namespace Dstar.Cluster.Wire;

/// <summary>
/// The protobuf field tags of <c>WorkerMessage{gradient}</c> in <c>dstar.proto</c>, which the worker's encoder
/// (<see cref="Worker.WorkerRequest"/>) writes and the server's decoder (<see cref="Server.SessionMarshaller"/>) reads
/// without protobuf's generated code. A tag is (field number &lt;&lt; 3) | wire type; 0 = varint, 1 = 64-bit,
/// 2 = length-delimited.
/// </summary>
internal static class GradientTags
{
    /// <summary>WorkerMessage.gradient (field 3, a message).</summary>
    public const byte Gradient = (3 << 3) | 2;

    /// <summary>Gradient.version (field 1, varint).</summary>
    public const byte Version = (1 << 3) | 0;

    /// <summary>Gradient.data (field 2, bytes).</summary>
    public const byte Data = (2 << 3) | 2;

    /// <summary>Gradient.compute_seconds (field 3, double).</summary>
    public const byte Compute = (3 << 3) | 1;

    /// <summary>Gradient.local_seconds (field 4, double).</summary>
    public const byte Local = (4 << 3) | 1;
}

namespace Dstar.Engine.Transport;

/// <summary>
/// How the parameter server talks to its N workers: it publishes a parameter vector with a version, and reads the
/// gradients that come back as an asynchronous stream. Two implementations: <c>SimulatedTransport</c> (virtual clock,
/// in-process workers) and the gRPC transport of Dstar.Cluster. The parameter server does not know which one it drives.
/// </summary>
/// <remarks>
/// <para>The protocol of one round t, as <see cref="Server.ParameterServer"/> runs it:</para>
/// <list type="number">
/// <item><see cref="PublishAsync"/>(t, x_t): from now on every worker should compute a gradient at x_t and send it
/// tagged with version t. The transport restarts its round clock at 0 (see <see cref="Arrival.Time"/>).</item>
/// <item>The server enumerates <see cref="ReadArrivalsAsync"/> and offers each arrival to its
/// <see cref="Collection.RoundCollector"/> until it has k gradients, then stops enumerating (disposes the enumerator).
/// Right after offering an arrival it tells the transport the collector's verdict (<see cref="Judged"/>), before it
/// reads the next one.</item>
/// </list>
/// <para>Requirements on an implementation:</para>
/// <list type="bullet">
/// <item>Arrivals may be of any version: messages for older versions that were still in flight are delivered as they
/// come, and the collector drops them as stale. A transport never drops or reorders messages on its own judgement,
/// so that every drop is counted with its reason in one place.</item>
/// <item>An enumeration ends (MoveNextAsync returns false) only when no more arrivals can come for the current
/// version (the simulator: every worker that will ever answer has answered), or when the token is cancelled
/// (a network transport: then it throws <see cref="OperationCanceledException"/>). Arrivals not yet read when an
/// enumeration stops must not be lost: the next call of <see cref="ReadArrivalsAsync"/> delivers them (for a network
/// transport, a <see cref="System.Threading.Channels.Channel{T}"/> read with <c>ReadAllAsync</c> does exactly this).</item>
/// <item>With <see cref="UsesVirtualTime"/> false the server enforces a deadline with a wall-clock timer that cancels
/// the enumeration; with it true the server judges the deadline from <see cref="Arrival.Time"/> alone, since virtual
/// time passes only between arrivals.</item>
/// <item>The <see cref="Arrival.Gradient"/> memory only has to stay valid until the enumerator advances.</item>
/// <item>Calls are never concurrent: the server publishes, then reads, then publishes the next version.</item>
/// </list>
/// </remarks>
public interface ITransport
{
    /// <summary>N: the number of workers; worker ids are 0..N−1.</summary>
    int WorkerCount { get; }

    /// <summary>True when <see cref="Arrival.Time"/> is virtual (simulation); false for wall-clock seconds.</summary>
    bool UsesVirtualTime { get; }

    /// <summary>
    /// Makes x_t (<paramref name="parameters"/>, d floats) with version <paramref name="version"/> the current task of
    /// every worker and restarts the round clock. The transport copies or sends the values before returning; the server
    /// changes its buffer afterwards.
    /// </summary>
    /// <exception cref="ArgumentException">the parameter length differs from the model dimension the transport serves.</exception>
    ValueTask PublishAsync(long version, ReadOnlyMemory<float> parameters, CancellationToken cancellationToken = default);

    /// <summary>
    /// The gradients arriving from now on, in arrival order. See the remarks of <see cref="ITransport"/> for when the
    /// stream ends and what happens to arrivals not read.
    /// </summary>
    IAsyncEnumerable<Arrival> ReadArrivalsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The collector's verdict on <paramref name="arrival"/>, which the server read from this transport: null when
    /// it was accepted, else the drop with its reason. A network transport tells the worker; the default ignores it.
    /// </summary>
    void Judged(in Arrival arrival, Collection.Drop? verdict)
    {
    }
}

/// <summary>
/// A transport that knows every worker's response time for the current round as soon as it publishes (the simulator,
/// which draws them). <c>k: auto</c> uses the times of workers that were not accepted, revealed only once the virtual
/// clock has passed them, as a network server learns them from late gradients.
/// </summary>
public interface IRoundDelays
{
    /// <summary>Per worker, the current round's response time in seconds after publish (+∞: never answers).</summary>
    ReadOnlySpan<double> RoundDelays { get; }
}

/// <summary>
/// A network transport whose workers report, with each gradient, how they spent their time on it; the server uses the
/// report of the gradient that closed a round to split its wait (<see cref="Server.RoundTiming"/>).
/// </summary>
public interface IWorkerTimings
{
    /// <summary>
    /// What <paramref name="worker"/> reported with its gradient for <paramref name="version"/>: seconds spent computing
    /// it, and seconds from receiving x_version to sending it (computing included); null when it reported nothing.
    /// </summary>
    (double ComputeSeconds, double LocalSeconds)? WorkerTiming(int worker, long version);
}

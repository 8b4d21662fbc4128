using System.Threading.Channels;
using Dstar.Cluster.Protocol;

namespace Dstar.Cluster.Server;

/// <summary>
/// What waits to go down one upload connection (<see cref="Wire.UploadFrames"/>): the latest x_t only, and the outcomes
/// of accepted or late gradients. Outcomes do not wake the connection's writer; they go with the next x_t (or
/// <see cref="Flush"/>), in one write, so that a round costs each worker one wake-up on the way down instead of two.
/// </summary>
/// <remarks>
/// At most <see cref="MaxPendingOutcomes"/> outcomes wait: a worker that stops reading its connection cannot grow the
/// server's memory. Beyond that the oldest are dropped (they are the worker's information only; the server has already
/// counted them in its metrics).
/// </remarks>
internal sealed class UploadDownlink
{
    /// <summary>Outcomes kept waiting for the next write at most.</summary>
    public const int MaxPendingOutcomes = 256;

    private readonly object _gate = new();
    private readonly Queue<Outcome> _outcomes = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private ServerMessage? _parameters;
    private bool _completed;
    private long _queuedVersion = -1;

    /// <summary>
    /// Queues x_t, replacing a version not yet written, and wakes the writer; a version not newer than one already
    /// queued is ignored (the worker would compute it twice). False once completed.
    /// </summary>
    public bool TryQueueParameters(ServerMessage parameters)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return false;
            }

            if (parameters.Parameters.Version <= _queuedVersion)
            {
                return true;
            }

            _parameters = parameters;
            _queuedVersion = parameters.Parameters.Version;
        }

        _wake.Writer.TryWrite(true);
        return true;
    }

    /// <summary>Queues an outcome to go with the next x_t; false once completed.</summary>
    public bool TryQueueOutcome(Outcome outcome)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return false;
            }

            if (_outcomes.Count == MaxPendingOutcomes)
            {
                _outcomes.Dequeue();
            }

            _outcomes.Enqueue(outcome);
            return true;
        }
    }

    /// <summary>Wakes the writer to send the waiting outcomes without waiting for x_t (the run is over).</summary>
    public void Flush() => _wake.Writer.TryWrite(true);

    /// <summary>No more is queued; the writer ends once it has taken what waits.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
        }

        _wake.Writer.TryComplete();
    }

    /// <summary>
    /// Waits until something is to be written, then takes the waiting outcomes (into <paramref name="outcomes"/>, in
    /// order) and x_t (null: no new version); false when completed and nothing waits.
    /// </summary>
    public async ValueTask<(bool Any, ServerMessage? Parameters)> TakeAsync(List<Outcome> outcomes, CancellationToken cancellationToken)
    {
        outcomes.Clear();
        var open = await _wake.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
        _wake.Reader.TryRead(out _);
        lock (_gate)
        {
            outcomes.AddRange(_outcomes);
            _outcomes.Clear();
            var parameters = _parameters;
            _parameters = null;
            return (open || outcomes.Count > 0 || parameters is not null, parameters);
        }
    }
}

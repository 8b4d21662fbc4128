using System.Threading.Channels;

namespace Dstar.View.Board;

/// <summary>
/// Every run the view shows, and the browsers listening for updates. Updates go to each listener through a bounded
/// queue written without waiting: when a listener's queue is full (a slow or stuck browser), the update is dropped for
/// that listener, counted in <see cref="DroppedUpdates"/>, and the listener is told to re-read what it missed. The
/// run never waits for a browser.
/// </summary>
public sealed class ViewBoard
{
    /// <summary>Updates a listener may have queued before newer ones are dropped for it.</summary>
    public const int DefaultQueueCapacity = 1024;

    private readonly object _gate = new();
    private readonly List<ViewRun> _runs = new();
    private ViewListener[] _listeners = [];
    private long _dropped;
    private StudyView? _study;
    private ClusterView? _cluster;

    /// <summary>Creates an empty board whose listeners queue up to <paramref name="queueCapacity"/> updates.</summary>
    public ViewBoard(int queueCapacity = DefaultQueueCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        QueueCapacity = queueCapacity;
    }

    /// <summary>The per-listener queue bound.</summary>
    public int QueueCapacity { get; }

    /// <summary>Updates dropped because a listener's queue was full, over all listeners since the start.</summary>
    public long DroppedUpdates => Interlocked.Read(ref _dropped);

    /// <summary>Listeners connected now.</summary>
    public int ListenerCount => Volatile.Read(ref _listeners).Length;

    /// <summary>Adds a run named <paramref name="name"/> in state waiting; pass it to the run as a sink.</summary>
    public ViewRun Add(string name)
    {
        ViewRun run;
        lock (_gate)
        {
            run = new ViewRun(this, _runs.Count, name);
            _runs.Add(run);
        }

        Publish(new ViewUpdate(run, null));
        return run;
    }

    /// <summary>The study this board shows (<c>dstar sweep --view</c>, <c>dstar view</c> of a study directory), or null.</summary>
    public StudyView? Study => Volatile.Read(ref _study);

    /// <summary>The cluster this board shows (<c>dstar serve --view</c>), or null.</summary>
    public ClusterView? Cluster => Volatile.Read(ref _cluster);

    /// <summary>
    /// Shows the study of <paramref name="plan"/>, written in <paramref name="directory"/>: its grid of cells and, on
    /// the board, one waiting run per cell and seed (in plan order), filled in from the run directories.
    /// </summary>
    /// <exception cref="InvalidOperationException">the board already shows a study.</exception>
    public StudyView ShowStudy(Dstar.Studies.Definition.StudyIndex plan, string directory)
    {
        StudyView study;
        lock (_gate)
        {
            if (_study is not null)
            {
                throw new InvalidOperationException("this board already shows a study");
            }

            // The study adds its runs to the board (under the same lock, which is reentrant), then becomes visible.
            study = new StudyView(this, plan, directory);
            Volatile.Write(ref _study, study);
        }

        Publish(new ViewUpdate(null, null) { Panel = ViewPanel.Study });
        return study;
    }

    /// <summary>Shows the connections of a cluster of <paramref name="workers"/> workers.</summary>
    /// <exception cref="InvalidOperationException">the board already shows a cluster.</exception>
    public ClusterView ShowCluster(int workers)
    {
        ClusterView cluster;
        lock (_gate)
        {
            if (_cluster is not null)
            {
                throw new InvalidOperationException("this board already shows a cluster");
            }

            cluster = new ClusterView(this, workers);
            Volatile.Write(ref _cluster, cluster);
        }

        Publish(new ViewUpdate(null, null) { Panel = ViewPanel.Cluster });
        return cluster;
    }

    /// <summary>The runs, in the order they were added.</summary>
    public IReadOnlyList<ViewRun> Runs
    {
        get
        {
            lock (_gate)
            {
                return _runs.ToArray();
            }
        }
    }

    /// <summary>The run with id <paramref name="id"/>, or null.</summary>
    public ViewRun? Find(int id)
    {
        lock (_gate)
        {
            return (uint)id < (uint)_runs.Count ? _runs[id] : null;
        }
    }

    /// <summary>Starts listening: updates from now on arrive on the listener's reader until it is disposed.</summary>
    public ViewListener Listen()
    {
        var listener = new ViewListener(this, Channel.CreateBounded<ViewUpdate>(new BoundedChannelOptions(QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of waiting, and the drop is counted.
            SingleReader = true,
            SingleWriter = false,
        }));
        lock (_gate)
        {
            _listeners = [.. _listeners, listener];
        }

        return listener;
    }

    internal void Remove(ViewListener listener)
    {
        lock (_gate)
        {
            _listeners = _listeners.Where(l => !ReferenceEquals(l, listener)).ToArray();
        }
    }

    /// <summary>Offers <paramref name="update"/> to every listener without waiting for any.</summary>
    internal void Publish(ViewUpdate update)
    {
        foreach (var listener in Volatile.Read(ref _listeners))
        {
            if (!listener.Offer(update))
            {
                Interlocked.Increment(ref _dropped);
            }
        }
    }
}

/// <summary>One browser's queue of updates (see <see cref="ViewBoard.Listen"/>).</summary>
public sealed class ViewListener : IDisposable
{
    private readonly ViewBoard _board;
    private readonly Channel<ViewUpdate> _channel;
    private long _missed;

    internal ViewListener(ViewBoard board, Channel<ViewUpdate> channel)
    {
        _board = board;
        _channel = channel;
    }

    /// <summary>The updates, in order.</summary>
    public ChannelReader<ViewUpdate> Reader => _channel.Reader;

    /// <summary>Returns how many updates were dropped for this listener since the last call, and resets the count.</summary>
    public long TakeMissed() => Interlocked.Exchange(ref _missed, 0);

    internal bool Offer(ViewUpdate update)
    {
        if (_channel.Writer.TryWrite(update))
        {
            return true;
        }

        Interlocked.Increment(ref _missed);
        return false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _board.Remove(this);
        _channel.Writer.TryComplete();
    }
}

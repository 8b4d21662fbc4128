using Microsoft.Extensions.Logging;

namespace Dstar.Cluster.Observability;

/// <summary>
/// Warnings about refused connections that a peer repeating itself cannot turn into a flood. The first refusal from an
/// address is logged at once, in full, with the peer (address and port), the reason and the detail; further refusals
/// from that address within <see cref="Window"/> of it are only counted, and when the window ends one line says how
/// many there were, by reason. So every refusal is logged once, on its own line or in its address's summary; a peer
/// that goes on refusing gets at most two lines per window. Counting for metrics is the caller's, per refusal.
/// </summary>
/// <remarks>
/// At most <see cref="MaxAddresses"/> addresses are tracked at once; refusals from further addresses share one window,
/// named "other addresses", so the memory held stays bounded whatever the peers. <see cref="Dispose"/> writes the
/// summaries of the windows still open (the server is stopping), so none is lost.
/// </remarks>
internal sealed class RefusalLog : IDisposable
{
    /// <summary>How long after an address's first logged refusal its further ones are only counted: one minute.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(1);

    /// <summary>Addresses tracked at once; refusals from others share one window.</summary>
    public const int MaxAddresses = 1024;

    /// <summary>The key of the window shared by addresses beyond <see cref="MaxAddresses"/>.</summary>
    public const string OtherAddresses = "other addresses";

    private readonly object _gate = new();
    private readonly Dictionary<string, AddressWindow> _windows = new(StringComparer.Ordinal);
    private readonly ILogger _log;
    private readonly string _what;
    private readonly TimeProvider _time;
    private bool _disposed;

    /// <summary>Logs to <paramref name="log"/> the refusals of <paramref name="what"/> (e.g. "upload connection").</summary>
    /// <param name="log">Where the warnings go.</param>
    /// <param name="what">What was refused, singular, as the lines name it.</param>
    /// <param name="window">How long an address's further refusals are only counted (default <see cref="DefaultWindow"/>).</param>
    /// <param name="time">The clock and timers (default the system's; tests pass their own).</param>
    public RefusalLog(ILogger log, string what, TimeSpan? window = null, TimeProvider? time = null)
    {
        _log = log ?? throw new ArgumentNullException(nameof(log));
        _what = what;
        Window = window ?? DefaultWindow;
        _time = time ?? TimeProvider.System;
        if (Window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "the window must be positive");
        }
    }

    /// <summary>How long after an address's first logged refusal its further ones are only counted.</summary>
    public TimeSpan Window { get; }

    /// <summary>
    /// A connection from <paramref name="peer"/> (at <paramref name="address"/>, its IP address without the port) was
    /// refused for <paramref name="reason"/>: logged now in full, or counted into the address's summary.
    /// </summary>
    public void Refused(string address, string peer, string reason, string detail)
    {
        lock (_gate)
        {
            var key = _windows.Count >= MaxAddresses && !_windows.ContainsKey(address) ? OtherAddresses : address;
            if (!_disposed && _windows.TryGetValue(key, out var open))
            {
                open.Count(reason);
                return;
            }

            if (!_disposed)
            {
                var window = new AddressWindow(key);
                _windows[key] = window;
                window.Timer = _time.CreateTimer(state => End((AddressWindow)state!), window, Window, Timeout.InfiniteTimeSpan);
            }
        }

        _log.LogWarning("refused {What} from {Peer}: {Reason}: {Detail}", _what, peer, reason, detail);
    }

    /// <summary>Writes the summaries of the windows still open and stops their timers; later refusals are logged in full.</summary>
    public void Dispose()
    {
        List<AddressWindow> open;
        lock (_gate)
        {
            _disposed = true;
            open = [.. _windows.Values];
            _windows.Clear();
        }

        foreach (var window in open)
        {
            window.Timer?.Dispose();
            Summarize(window);
        }
    }

    private void End(AddressWindow window)
    {
        lock (_gate)
        {
            if (!_windows.Remove(window.Address, out var current) || !ReferenceEquals(current, window))
            {
                return;
            }
        }

        window.Timer?.Dispose();
        Summarize(window);
    }

    private void Summarize(AddressWindow window)
    {
        var (total, reasons) = window.Counts();
        if (total == 0)
        {
            return;
        }

        _log.LogWarning("refused {Count} more {What}{Plural} from {Address} within {Seconds} s of the one logged: {Reasons}",
            total, _what, total == 1 ? "" : "s", window.Address, (long)Window.TotalSeconds, reasons);
    }

    /// <summary>One address's refusals since its first logged one.</summary>
    private sealed class AddressWindow(string address)
    {
        private readonly SortedDictionary<string, long> _reasons = new(StringComparer.Ordinal);

        public string Address { get; } = address;

        public ITimer? Timer { get; set; }

        /// <summary>Counts one more refusal (called under the log's lock).</summary>
        public void Count(string reason) => _reasons[reason] = _reasons.GetValueOrDefault(reason) + 1;

        /// <summary>The refusals counted and their reasons as "bad-token × 3, malformed × 1" (once the window is out of the log's table).</summary>
        public (long Total, string Reasons) Counts() =>
            (_reasons.Values.Sum(), string.Join(", ", _reasons.Select(r => $"{r.Key} × {r.Value}")));
    }
}

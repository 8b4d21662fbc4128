using Dstar.Cluster.Observability;
using Microsoft.Extensions.Logging;

namespace Dstar.Cluster.Tests.Observability;

/// <summary>
/// Refusals are logged once each without a repeating peer flooding the log: the first from an address in full, the
/// rest of its window as one summary line with the count by reason.
/// </summary>
public class RefusalLogTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    [Fact]
    public void The_first_refusal_of_an_address_is_logged_at_once_and_its_repeats_as_one_summary()
    {
        var (log, lines, time) = Create();
        log.Refused("10.0.0.7", "10.0.0.7:40001", "bad-token", "the token is not that of an open session");
        Assert.Equal(["refused upload connection from 10.0.0.7:40001: bad-token: the token is not that of an open session"], lines);

        for (var i = 0; i < 40; i++)
        {
            log.Refused("10.0.0.7", $"10.0.0.7:{40002 + i}", i % 4 == 0 ? "malformed" : "bad-token", "detail");
        }

        time.Advance(Window - TimeSpan.FromSeconds(1));
        Assert.Single(lines);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, lines.Count);
        Assert.Equal("refused 40 more upload connections from 10.0.0.7 within 60 s of the one logged: bad-token × 30, malformed × 10", lines[1]);

        // The window is over: the next refusal is news again.
        log.Refused("10.0.0.7", "10.0.0.7:50000", "bad-token", "again");
        Assert.Equal("refused upload connection from 10.0.0.7:50000: bad-token: again", lines[2]);
    }

    [Fact]
    public void A_refusal_alone_in_its_window_gets_no_summary_and_other_addresses_are_logged_apart()
    {
        var (log, lines, time) = Create();
        log.Refused("10.0.0.7", "10.0.0.7:1", "bad-token", "d");
        log.Refused("10.0.0.8", "10.0.0.8:1", "malformed", "d");
        log.Refused("10.0.0.8", "10.0.0.8:2", "malformed", "d");
        time.Advance(Window);
        Assert.Equal(
        [
            "refused upload connection from 10.0.0.7:1: bad-token: d",
            "refused upload connection from 10.0.0.8:1: malformed: d",
            "refused 1 more upload connection from 10.0.0.8 within 60 s of the one logged: malformed × 1",
        ], lines);
    }

    [Fact]
    public void Disposing_writes_the_summaries_still_open()
    {
        var (log, lines, _) = Create();
        log.Refused("::1", "[::1]:1", "bad-token", "d");
        log.Refused("::1", "[::1]:2", "bad-token", "d");
        log.Refused("::1", "[::1]:3", "too-many-uploads", "d");
        log.Dispose();
        Assert.Equal("refused 2 more upload connections from ::1 within 60 s of the one logged: bad-token × 1, too-many-uploads × 1", lines[^1]);

        // After disposal nothing is held back any more.
        log.Refused("::1", "[::1]:4", "bad-token", "d");
        Assert.Equal("refused upload connection from [::1]:4: bad-token: d", lines[^1]);
    }

    [Fact]
    public void Addresses_beyond_the_limit_share_one_window()
    {
        var (log, lines, time) = Create();
        for (var i = 0; i < RefusalLog.MaxAddresses + 50; i++)
        {
            log.Refused($"10.1.{i / 256}.{i % 256}", $"10.1.{i / 256}.{i % 256}:9", "bad-token", "d");
        }

        // One line per tracked address, one for the first of the rest; the other 49 are summed up when the window ends.
        Assert.Equal(RefusalLog.MaxAddresses + 1, lines.Count);
        time.Advance(Window);
        Assert.Equal($"refused 49 more upload connections from {RefusalLog.OtherAddresses} within 60 s of the one logged: bad-token × 49", lines[^1]);
    }

    private static (RefusalLog Log, WarningLines Lines, ManualTime Time) Create()
    {
        var logger = new ListLogger();
        var time = new ManualTime();
        return (new RefusalLog(logger, "upload connection", Window, time), new WarningLines(logger), time);
    }

    /// <summary>The logger's lines, each checked to be a warning.</summary>
    private sealed class WarningLines(ListLogger logger) : IReadOnlyList<string>
    {
        private IReadOnlyList<string> Current
        {
            get
            {
                Assert.All(logger.Lines, l => Assert.Equal(LogLevel.Warning, l.Level));
                return logger.Messages;
            }
        }

        public int Count => Current.Count;

        public string this[int index] => Current[index];

        public IEnumerator<string> GetEnumerator() => Current.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A clock that moves only when told, firing the one-shot timers that fall due.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private readonly List<ManualTimer> _timers = new();
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Assert.Equal(Timeout.InfiniteTimeSpan, period);
            var timer = new ManualTimer(this, callback, state, _now + dueTime);
            _timers.Add(timer);
            return timer;
        }

        public void Advance(TimeSpan by)
        {
            _now += by;
            foreach (var due in _timers.Where(t => t.Due <= _now).ToList())
            {
                _timers.Remove(due);
                due.Callback(due.State);
            }
        }

        public void Remove(ManualTimer timer) => _timers.Remove(timer);

        public sealed class ManualTimer(ManualTime time, TimerCallback callback, object? state, DateTimeOffset due) : ITimer
        {
            public TimerCallback Callback { get; } = callback;

            public object? State { get; } = state;

            public DateTimeOffset Due { get; } = due;

            public bool Change(TimeSpan dueTime, TimeSpan period) => throw new NotSupportedException();

            public void Dispose() => time.Remove(this);

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}

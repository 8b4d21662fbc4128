using Dstar.View.Board;

namespace Dstar.View.Tests.Board;

public class ViewBoardTests
{
    [Fact]
    public void Stuck_listener_never_blocks_a_round_and_every_drop_is_counted()
    {
        var board = new ViewBoard(queueCapacity: 8);
        var run = board.Add("run");
        using var stuck = board.Listen(); // never read, like a browser that stopped reading
        var records = Records.Random(1000, workers: 8, seed: 3);

        run.Start(Records.Info(), 0, []);
        foreach (var r in records)
        {
            run.Record(r);
        }

        run.Finish(Records.Summary("run", records.Count));

        // 1 start + 1000 rounds + 1 finish offered; the queue took 8.
        Assert.Equal(1002 - 8, board.DroppedUpdates);
        Assert.Equal(1002 - 8, stuck.TakeMissed());
        Assert.Equal(0, stuck.TakeMissed());
        Assert.Equal(records, run.Records());
        Assert.Equal(8, stuck.Reader.Count);
    }

    [Fact]
    public void Listener_that_reads_gets_every_update_in_order()
    {
        var board = new ViewBoard(queueCapacity: 4);
        var run = board.Add("run");
        using var listener = board.Listen();
        run.Start(Records.Info(), 0, []);
        var seen = new List<long>();
        foreach (var r in Records.Random(50, workers: 6, seed: 5))
        {
            run.Record(r);
            while (listener.Reader.TryRead(out var update))
            {
                if (update.Round is { } round)
                {
                    seen.Add(round.Round);
                }
            }
        }

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), seen);
        Assert.Equal(0, board.DroppedUpdates);
    }

    [Fact]
    public void Run_goes_from_waiting_to_running_to_finished_or_stopped()
    {
        var board = new ViewBoard();
        var finished = board.Add("a");
        var stopped = board.Add("b");
        Assert.Equal(RunState.Waiting, finished.Snapshot().State);
        Assert.Null(finished.Snapshot().Info);

        var records = Records.Random(12, workers: 8, seed: 1);
        finished.Start(Records.Info("a"), 0, records[..4]);
        Assert.Equal(RunState.Running, finished.Snapshot().State);
        Assert.Equal(4, finished.Snapshot().RoundCount);
        foreach (var r in records[4..])
        {
            finished.Record(r);
        }

        finished.Finish(Records.Summary("a", 12));
        var snapshot = finished.Snapshot();
        Assert.Equal(RunState.Finished, snapshot.State);
        Assert.Equal(12, snapshot.RoundCount);
        Assert.Same(records[^1], snapshot.Last);
        Assert.Same(records.Last(r => r.Accuracy is not null), snapshot.LastEvaluated);

        stopped.Start(Records.Info("b"), 0, []);
        stopped.Finish(Records.Summary("b", 0, stoppedAt: 0));
        Assert.Equal(RunState.Stopped, stopped.Snapshot().State);
        Assert.Equal([finished, stopped], board.Runs);
    }

    [Fact]
    public void Records_pages_are_copies_of_the_requested_range()
    {
        var board = new ViewBoard();
        var run = board.Add("run");
        var records = Records.Random(30, workers: 5, seed: 2);
        run.Start(Records.Info(), 0, records);
        Assert.Equal(records[10..15], run.Records(10, 5));
        Assert.Equal(records[25..], run.Records(25));
        Assert.Empty(run.Records(30));
        Assert.Empty(run.Records(99));
    }

    [Fact]
    public void Worker_totals_match_a_naive_count()
    {
        var records = Records.Random(200, workers: 9, seed: 8);
        var info = Records.Info(workers: 9);
        var totals = WorkerTotals.Of(info, records);
        Assert.Equal(9, totals.Count);
        foreach (var t in totals)
        {
            Assert.Equal(records.Count(r => r.Kept.Contains(t.Worker)), t.Kept);
            Assert.Equal(records.Count(r => r.Filtered.Contains(t.Worker)), t.Filtered);
            Assert.Equal(records.Count(r => r.Dropped.Any(d => d.Worker == t.Worker && d.Reason == Engine.Collection.DropReason.Late)), t.Late);
            Assert.Equal(records.Count(r => r.Dropped.Any(d => d.Worker == t.Worker && d.Reason != Engine.Collection.DropReason.Late)), t.OtherDrops);
            Assert.Equal(t.Worker >= 7, t.Byzantine);
            Assert.Equal(records.Count, t.Kept + t.Filtered + t.Late + t.OtherDrops);
        }
    }
}

using Dstar.View.Board;

namespace Dstar.View.Tests.Board;

public class ClusterViewTests
{
    [Fact]
    public void Workers_go_from_never_to_connected_to_disconnected_and_refusals_are_counted_by_reason()
    {
        var board = new ViewBoard();
        var cluster = board.ShowCluster(4);
        using var listener = board.Listen();
        var before = DateTime.UtcNow;

        cluster.Joined(0, "ipv4:127.0.0.1:1000");
        cluster.Joined(2, "ipv4:127.0.0.1:1002");
        cluster.Joined(2, "ipv4:127.0.0.1:1003"); // a reconnect replaces the session
        cluster.Left(0);
        for (int i = 0; i < 5; i++)
        {
            cluster.Received(2);
        }

        var refusals = new[] { "bad-signature", "unregistered", "bad-signature", "config-mismatch" };
        foreach (var reason in refusals)
        {
            cluster.JoinRefused(reason, 1, "ipv4:10.0.0.9:4000");
        }

        cluster.GradientRefused("stale-version", 2);
        cluster.GradientRefused("non-finite", 2);
        cluster.GradientRefused("stale-version", 3);
        cluster.Joined(9, "ipv4:127.0.0.1:1");   // outside 0..N−1: ignored
        cluster.Received(-1);

        var s = cluster.Snapshot();
        Assert.Equal(["disconnected", "never", "connected", "never"], s.Workers.Select(w => w.State));
        Assert.Equal((2L, 5L, "ipv4:127.0.0.1:1003"), (s.Workers[2].Joins, s.Workers[2].Gradients, s.Workers[2].Peer));
        Assert.Null(s.Workers[1].LastSeen);
        Assert.InRange(s.Workers[2].LastSeen!.Value, before, s.Now);
        Assert.Equal(refusals.GroupBy(r => r).ToDictionary(g => g.Key, g => (long)g.Count()), s.JoinRefusals);
        Assert.Equal(new Dictionary<string, long> { ["non-finite"] = 1, ["stale-version"] = 2 }, s.GradientRefusals);
        Assert.Equal(7, s.Recent.Count);
        Assert.Equal(("stale-version", ClusterRefusalKind.Gradient, 3), (s.Recent[0].Reason, s.Recent[0].Kind, s.Recent[0].Worker!.Value));

        // Joins, leaves and refusals reach the browsers; received gradients do not (the page re-reads last-seen times).
        int updates = 0;
        while (listener.Reader.TryRead(out var update))
        {
            Assert.Equal(ViewPanel.Cluster, update.Panel);
            updates++;
        }

        Assert.Equal(4 + refusals.Length + 3, updates);
    }

    [Fact]
    public void Recent_refusals_keep_the_latest_ones()
    {
        var cluster = new ViewBoard().ShowCluster(1);
        for (int i = 0; i < ClusterView.RecentRefusals + 15; i++)
        {
            cluster.JoinRefused("r" + i, null, "p");
        }

        var recent = cluster.Snapshot().Recent;
        Assert.Equal(ClusterView.RecentRefusals, recent.Count);
        Assert.Equal("r" + (ClusterView.RecentRefusals + 14), recent[0].Reason);
        Assert.Equal(ClusterView.RecentRefusals + 15, cluster.Snapshot().JoinRefusals.Count);
    }
}

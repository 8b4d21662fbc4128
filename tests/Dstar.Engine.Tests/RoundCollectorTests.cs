using Xunit;
using Dstar.Engine.Collection;
using Dstar.Engine.Transport;

namespace Dstar.Engine.Tests;

public class RoundCollectorTests
{
    private static Arrival Gradient(int worker, long version, double time, float value = 1f, int length = 3) =>
        new(worker, version, Enumerable.Repeat(value, length).ToArray(), time);

    [Fact]
    public void Collector_accepts_first_k_distinct_current_gradients_in_arrival_order()
    {
        var collector = new RoundCollector(workerCount: 5, dimension: 3, k: 3);
        collector.Begin(7);
        Assert.Null(collector.Offer(Gradient(4, 7, 0.1, 4f)));
        Assert.Null(collector.Offer(Gradient(1, 7, 0.2, 1f)));
        Assert.False(collector.IsComplete);
        Assert.Null(collector.Offer(Gradient(2, 7, 0.3, 2f)));
        Assert.True(collector.IsComplete);
        collector.Close();

        Assert.Equal(new[] { 4, 1, 2 }, collector.AcceptedWorkers.ToArray());
        Assert.Equal(3, collector.Batch.Count);
        Assert.Equal(new[] { 4f, 4f, 4f }, collector.Batch.Row(0).ToArray());
        Assert.Equal(new[] { 2f, 2f, 2f }, collector.Batch.Row(2).ToArray());
        Assert.Equal(0.3, collector.CloseTime);
    }

    [Fact]
    public void Collector_does_not_count_excluded_workers_towards_k_and_keeps_out_at_most_the_limit()
    {
        var collector = new RoundCollector(5, 3, k: 2) { Excludes = w => w is 0 or 1 or 2, MaxExcluded = 2 };
        collector.Begin(0);
        Assert.Equal(DropReason.Excluded, collector.Offer(Gradient(0, 0, 0.1))?.Reason);
        Assert.Equal(DropReason.Excluded, collector.Offer(Gradient(1, 0, 0.2))?.Reason);
        Assert.Null(collector.Offer(Gradient(2, 0, 0.3)));   // over the limit: it reaches the rule, which leaves it out
        Assert.False(collector.IsComplete);
        Assert.Null(collector.Offer(Gradient(3, 0, 0.4)));
        Assert.True(collector.IsComplete);
        collector.Begin(1);
        Assert.Equal(DropReason.Excluded, collector.Offer(Gradient(0, 1, 0.1))?.Reason); // the limit is per round
    }

    [Fact]
    public void Collector_drops_gradient_after_the_kth_as_late()
    {
        var collector = new RoundCollector(4, 3, k: 2);
        collector.Begin(0);
        collector.Offer(Gradient(0, 0, 1));
        collector.Offer(Gradient(1, 0, 2));
        var drop = collector.Offer(Gradient(2, 0, 3));

        Assert.Equal(DropReason.Late, drop?.Reason);
        collector.Close();
        Assert.Equal(2, collector.Batch.Count);

        // Worker 3 never answered: recorded as late when the round closed; worker 2 is not counted twice.
        Assert.Equal(new[] { (2, DropReason.Late), (3, DropReason.Late) }, collector.Drops.Select(d => (d.Worker, d.Reason)).ToArray());
    }

    [Fact]
    public void Collector_drops_second_gradient_of_a_worker_as_duplicate()
    {
        var collector = new RoundCollector(4, 3, k: 3);
        collector.Begin(2);
        collector.Offer(Gradient(1, 2, 0.1, 1f));
        var drop = collector.Offer(Gradient(1, 2, 0.2, 9f));

        Assert.Equal(DropReason.Duplicate, drop?.Reason);
        Assert.Equal(1, collector.AcceptedCount);
        Assert.Equal(1f, collector.Batch.Row(0)[0]);
    }

    [Fact]
    public void Collector_drops_gradient_for_old_version_as_stale()
    {
        var collector = new RoundCollector(4, 3, k: 2);
        collector.Begin(5);
        var drop = collector.Offer(Gradient(0, 4, 0.1));

        Assert.Equal(DropReason.Stale, drop?.Reason);
        Assert.Equal(0, collector.AcceptedCount);

        // The same worker may still deliver for the current version.
        Assert.Null(collector.Offer(Gradient(0, 5, 0.2)));
    }

    [Theory]
    [InlineData("short")]
    [InlineData("nan")]
    [InlineData("infinity")]
    [InlineData("unknown-worker")]
    [InlineData("future-version")]
    public void Collector_drops_malformed_gradient(string kind)
    {
        var collector = new RoundCollector(4, 3, k: 2);
        collector.Begin(1);
        var arrival = kind switch
        {
            "short" => Gradient(0, 1, 0.1, length: 2),
            "nan" => new Arrival(0, 1, new[] { 1f, float.NaN, 1f }, 0.1),
            "infinity" => new Arrival(0, 1, new[] { 1f, 1f, float.NegativeInfinity }, 0.1),
            "unknown-worker" => Gradient(4, 1, 0.1),
            _ => Gradient(0, 2, 0.1),
        };

        var drop = collector.Offer(arrival);

        Assert.Equal(DropReason.Malformed, drop?.Reason);
        Assert.Equal(0, collector.AcceptedCount);
        Assert.False(string.IsNullOrWhiteSpace(drop?.Detail));
    }

    [Fact]
    public void Collector_closes_at_the_deadline_once_k_min_arrived()
    {
        var collector = new RoundCollector(6, 3, k: 5, deadline: 2.0, minimumCount: 2);
        collector.Begin(0);
        collector.Offer(Gradient(0, 0, 0.5));
        collector.Offer(Gradient(1, 0, 1.5));
        var drop = collector.Offer(Gradient(2, 0, 2.5));

        Assert.Equal(DropReason.Late, drop?.Reason);
        Assert.True(collector.IsComplete);
        collector.Close();
        Assert.Equal(2, collector.Batch.Count);
        Assert.Equal(2.0, collector.CloseTime);
    }

    [Fact]
    public void Collector_waits_past_the_deadline_until_k_min_arrived()
    {
        var collector = new RoundCollector(6, 3, k: 5, deadline: 1.0, minimumCount: 3);
        collector.Begin(0);
        collector.Offer(Gradient(0, 0, 0.5));
        Assert.Null(collector.Offer(Gradient(1, 0, 1.5)));
        Assert.False(collector.IsComplete);
        Assert.Null(collector.Offer(Gradient(2, 0, 2.5)));
        Assert.True(collector.IsComplete);
        Assert.Equal(DropReason.Late, collector.Offer(Gradient(3, 0, 2.6))?.Reason);
        collector.Close();
        Assert.Equal(2.5, collector.CloseTime);
    }

    [Fact]
    public void Collector_default_k_min_is_half_k_rounded_up_plus_one()
    {
        Assert.Equal(9, RoundCollector.DefaultMinimumCount(15));
        Assert.Equal(2, RoundCollector.DefaultMinimumCount(2));
        Assert.Equal(1, RoundCollector.DefaultMinimumCount(1));
    }

    [Fact]
    public void Collector_refuses_to_close_short_of_k_without_a_deadline()
    {
        var collector = new RoundCollector(3, 3, k: 3);
        collector.Begin(4);
        collector.Offer(Gradient(0, 4, 0.1));
        var e = Assert.Throws<InvalidOperationException>(collector.Close);
        Assert.Contains("round 4", e.Message);
        Assert.Contains("1 of 3", e.Message);
    }

    [Fact]
    public void Collector_forgets_the_previous_round_on_begin()
    {
        var collector = new RoundCollector(3, 3, k: 1);
        collector.Begin(0);
        collector.Offer(Gradient(0, 0, 0.1));
        collector.Close();
        collector.Begin(1);
        Assert.Equal(0, collector.AcceptedCount);
        Assert.Empty(collector.Drops);
        Assert.Null(collector.Offer(Gradient(0, 1, 0.1)));
    }

    [Theory]
    [InlineData(0, float.NaN)]
    [InlineData(17, float.PositiveInfinity)]
    [InlineData(63, float.NegativeInfinity)]
    [InlineData(100, float.NaN)]
    public void Collector_finds_a_non_finite_value_anywhere_in_a_long_gradient(int position, float value)
    {
        // 101 values: the vectorized part and the scalar tail are both checked.
        var collector = new RoundCollector(2, 101, k: 1);
        collector.Begin(0);
        var gradient = Enumerable.Range(0, 101).Select(i => (float)i).ToArray();
        gradient[position] = value;
        Assert.Equal(DropReason.Malformed, collector.Offer(new Arrival(0, 0, gradient, 0.1))?.Reason);

        var good = Enumerable.Range(0, 101).Select(i => i * 0.5f).ToArray();
        Assert.Null(collector.Offer(new Arrival(1, 0, good, 0.2)));
        collector.Close();
        Assert.Equal(good, collector.Batch.Row(0).ToArray());
    }
}

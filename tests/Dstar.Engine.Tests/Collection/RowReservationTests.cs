using Dstar.Engine.Collection;
using Dstar.Engine.Transport;
using Xunit;

namespace Dstar.Engine.Tests.Collection;

public class RowReservationTests
{
    [Fact]
    public void Gradient_written_into_the_reserved_row_is_accepted_in_place()
    {
        var collector = new RoundCollector(workerCount: 4, dimension: 3, k: 2);
        collector.Begin(5);
        var row = collector.ReserveNextRow(5)!.Value;
        row.Span.Fill(2f);
        Assert.Null(collector.Offer(new Arrival(1, 5, row, 0.1)));

        var second = collector.ReserveNextRow(5)!.Value;
        Assert.False(second.Span.Overlaps(row.Span));
        second.Span.Fill(float.NaN);
        Assert.Equal(DropReason.Malformed, collector.Offer(new Arrival(2, 5, second, 0.2))?.Reason);

        // The dropped row is handed out again for the next gradient.
        Assert.True(collector.ReserveNextRow(5)!.Value.Span.Overlaps(second.Span));
        Assert.Null(collector.Offer(new Arrival(3, 5, new float[] { 3f, 3f, 3f }, 0.3)));
        Assert.Equal([2f, 2f, 2f, 3f, 3f, 3f], collector.Batch.Buffer[..6]);
    }

    [Fact]
    public void No_row_is_reserved_for_another_version_or_a_complete_round()
    {
        var collector = new RoundCollector(workerCount: 3, dimension: 2, k: 1);
        collector.Begin(1);
        Assert.Null(collector.ReserveNextRow(0));
        Assert.Null(collector.ReserveRows(2, 1));
        Assert.Null(collector.ReserveRows(1, 2));
        Assert.Null(collector.Offer(new Arrival(0, 1, new float[] { 1f, 1f }, 0)));
        Assert.Null(collector.ReserveNextRow(1));
        Assert.Null(collector.ReserveRows(1, 1));
    }

    [Fact]
    public void Reserved_rows_shift_down_when_an_earlier_one_is_dropped()
    {
        var collector = new RoundCollector(workerCount: 5, dimension: 2, k: 3);
        collector.Begin(0);
        var rows = collector.ReserveRows(0, 2)!;
        rows.Row(0).Fill(float.PositiveInfinity);
        rows.Row(1).Fill(7f);
        var buffer = rows.Buffer;
        Assert.Equal(DropReason.Malformed, collector.Offer(new Arrival(3, 0, buffer.AsMemory(0, 2), 0))?.Reason);
        Assert.Null(collector.Offer(new Arrival(4, 0, buffer.AsMemory(2, 2), 0)));
        Assert.Equal([7f, 7f], collector.Batch.Row(0).ToArray());
        Assert.Equal([4], collector.AcceptedWorkers.ToArray());
    }
}

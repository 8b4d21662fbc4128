using System.Threading.Channels;
using Dstar.Core;
using Dstar.Core.Optimization;
using Dstar.Core.Specs;
using Dstar.Engine.Collection;
using Dstar.Engine.Server;
using Dstar.Engine.Transport;
using Xunit;

namespace Dstar.Engine.Tests;

/// <summary>
/// The parameter server over a wall-clock transport built the way ITransport's remarks suggest for a network: a
/// channel that the receive side writes into and <see cref="ReadArrivalsAsync"/> reads with ReadAllAsync.
/// </summary>
internal sealed class ChannelTransport(int workers) : ITransport
{
    private readonly Channel<Arrival> _arrivals = Channel.CreateUnbounded<Arrival>();
    private readonly System.Diagnostics.Stopwatch _sincePublish = new();

    public int WorkerCount => workers;

    public bool UsesVirtualTime => false;

    public long Version { get; private set; } = -1;

    public ValueTask PublishAsync(long version, ReadOnlyMemory<float> parameters, CancellationToken cancellationToken = default)
    {
        Version = version;
        _sincePublish.Restart();
        return ValueTask.CompletedTask;
    }

    public IAsyncEnumerable<Arrival> ReadArrivalsAsync(CancellationToken cancellationToken = default) => _arrivals.Reader.ReadAllAsync(cancellationToken);

    /// <summary>What a network receive handler does: stamp the time and queue the message.</summary>
    public void Receive(int worker, long version, float[] gradient) =>
        _arrivals.Writer.TryWrite(new Arrival(worker, version, gradient, _sincePublish.Elapsed.TotalSeconds));
}

public class WallClockTransportTests
{
    private static ParameterServer Server(int workers, int k, double? deadline, int? kMin) => new(
        new ParameterServerOptions { WorkerCount = workers, K = k, Deadline = deadline, MinimumCount = kMin },
        new float[] { 1f, 1f },
        Registry.Pipeline("mean"),
        new Sgd(2, learningRate: 0.5));

    [Fact]
    public async Task Previous_aggregate_is_null_before_the_first_step_and_the_aggregate_after_it()
    {
        var transport = new ChannelTransport(2);
        var server = Server(2, k: 2, deadline: null, kMin: null);
        Assert.Null(server.PreviousAggregate);

        var round = server.RunRoundAsync(transport);
        transport.Receive(0, 0, [2f, 0f]);
        transport.Receive(1, 0, [0f, 2f]);
        await round.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(new[] { 1f, 1f }, server.PreviousAggregate!.Value.ToArray());
    }

    [Fact]
    public async Task Wall_clock_deadline_closes_the_round_with_k_min_gradients()
    {
        var transport = new ChannelTransport(3);
        var server = Server(3, k: 3, deadline: 0.3, kMin: 2);
        var round = server.RunRoundAsync(transport);
        transport.Receive(0, 0, [2f, 0f]);
        transport.Receive(1, 0, [0f, 2f]);

        var e = await round.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(new[] { 0, 1 }, e.AcceptedWorkers);
        Assert.Contains(e.Drops, d => d.Worker == 2 && d.Reason == DropReason.Late);
        Assert.Equal(0.3, e.RoundSeconds);
        Assert.Equal(new[] { 0.5f, 0.5f }, server.Parameters.ToArray());
    }

    [Fact]
    public async Task Wall_clock_round_waits_past_the_deadline_for_k_min_and_drops_the_old_version_as_stale()
    {
        var transport = new ChannelTransport(3);
        var server = Server(3, k: 3, deadline: 0.05, kMin: 2);

        // Round 0 with everyone; then a slow answer for version 0 arrives during round 1.
        var first = server.RunRoundAsync(transport);
        for (int w = 0; w < 3; w++)
        {
            transport.Receive(w, 0, [0f, 0f]);
        }

        await first.WaitAsync(TimeSpan.FromSeconds(10));
        var second = server.RunRoundAsync(transport);
        transport.Receive(2, 0, [9f, 9f]);
        transport.Receive(0, 1, [1f, 1f]);
        await Task.Delay(200);
        Assert.False(second.IsCompleted, "one gradient is below k_min = 2: the round must keep waiting");
        transport.Receive(1, 1, [1f, 1f]);

        var e = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new[] { 0, 1 }, e.AcceptedWorkers);
        Assert.Contains(e.Drops, d => d.Worker == 2 && d.Reason == DropReason.Stale);
        // The second gradient came about 0.2 s after publishing (timers are coarse under load): well past the 0.05 s deadline.
        Assert.True(e.RoundSeconds >= 0.15, $"the round closed at the second gradient ({e.RoundSeconds} s), after the deadline");
    }
}

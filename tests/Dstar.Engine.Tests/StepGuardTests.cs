using Dstar.Core;
using Dstar.Core.Optimization;
using Dstar.Core.Specs;
using Dstar.Engine.Server;
using Xunit;

namespace Dstar.Engine.Tests;

/// <summary>
/// The server's step: it skips the rollback copies when the step provably stays finite and keeps them near overflow.
/// Either way x must be exactly what a plain <see cref="Sgd"/> step gives, or unchanged when the step overflows.
/// </summary>
public class StepGuardTests
{
    private static ParameterServer Server(float[] x0, Sgd optimizer) => new(
        new ParameterServerOptions { WorkerCount = 2, K = 2 },
        x0,
        Registry.Pipeline("mean"),
        optimizer);

    private static async Task<Exception?> Round(ParameterServer server, ChannelTransport transport, float[] a, float[] b)
    {
        var round = server.RunRoundAsync(transport);
        transport.Receive(0, transport.Version, a);
        transport.Receive(1, transport.Version, b);
        try
        {
            await round.WaitAsync(TimeSpan.FromSeconds(10));
            return null;
        }
        catch (AggregationException e)
        {
            return e;
        }
    }

    [Theory]
    [InlineData(0.0, 0.0, 1f)]
    [InlineData(0.9, 0.01, 1f)]
    [InlineData(0.9, 0.01, 3e38f)] // x near float.MaxValue: the guarded path, which still steps
    public async Task Steps_match_a_plain_SGD_on_the_mean_and_the_previous_aggregate_is_that_mean(double momentum, double weightDecay, float scale)
    {
        const int d = 7;
        var random = new Random(5);
        var x0 = Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() - 0.5) * scale).ToArray();
        var server = Server(x0, new Sgd(d, 0.1, momentum, weightDecay));
        var reference = new Sgd(d, 0.1, momentum, weightDecay);
        var x = x0.ToArray();
        var transport = new ChannelTransport(2);
        for (int t = 0; t < 5; t++)
        {
            var a = Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            var b = Enumerable.Range(0, d).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            var mean = new float[d];
            var meanRule = Registry.Rules.Create("mean");
            meanRule.Aggregate(GradientBatch.FromRows([a, b]), new AggregationContext(0), mean);

            Assert.Null(await Round(server, transport, a, b));
            reference.Step(x, mean);

            Assert.Equal(x, server.Parameters.ToArray());
            Assert.Equal(reference.Velocity.ToArray(), server.Optimizer.Velocity.ToArray());
            Assert.Equal(mean, server.PreviousAggregate!.Value.ToArray());
        }
    }

    [Fact]
    public async Task A_step_that_overflows_leaves_x_and_the_velocity_unchanged()
    {
        var x0 = new[] { 3e38f, 1f };
        var server = Server(x0, new Sgd(2, 0.5, momentum: 0.9));
        var transport = new ChannelTransport(2);

        // The mean is finite, v = g = (−1.5e38, 0), and x − 0.5·v = 3.75e38 is +∞ in float.
        var error = await Round(server, transport, [-3e38f, 0f], [0f, 0f]);

        Assert.NotNull(error);
        Assert.Contains("overflowed", error.Message);
        Assert.Equal(x0, server.Parameters.ToArray());
        Assert.Equal(new[] { 0f, 0f }, server.Optimizer.Velocity.ToArray());
        Assert.False(server.Optimizer.HasVelocity);
        Assert.Equal(0, server.Version);
    }
}

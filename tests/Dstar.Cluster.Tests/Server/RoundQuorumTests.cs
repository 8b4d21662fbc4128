using Dstar.Cluster.Server;
using Dstar.Engine.Configuration;

namespace Dstar.Cluster.Tests.Server;

/// <summary>What the server says when workers leave and fewer remain than a round needs.</summary>
public class RoundQuorumTests
{
    [Fact]
    public void Fewer_than_k_without_a_deadline_means_no_round_closes()
    {
        var quorum = RoundQuorum.Of(new ExperimentConfig { Workers = 6, K = 4 })!;
        Assert.Null(quorum.ShortHanded(4, 6));
        Assert.Equal("3 of 6 workers connected, fewer than k = 4: no round can close until more workers join (a deadline with k_min lets rounds close with fewer)",
            quorum.ShortHanded(3, 6));
    }

    [Fact]
    public void With_a_deadline_rounds_close_there_down_to_k_min()
    {
        var quorum = RoundQuorum.Of(new ExperimentConfig { Workers = 6, K = 4, Deadline = 1.5, KMin = 2 })!;
        Assert.Equal("2 of 6 workers connected, fewer than k = 4: each round now waits for its deadline (1.5 s) and closes with the gradients in",
            quorum.ShortHanded(2, 6));
        Assert.Equal("1 of 6 workers connected, fewer than k_min = 2: no round can close until more workers join", quorum.ShortHanded(1, 6));

        // k_min's default, ⌈k/2⌉ + 1, as the Engine's.
        Assert.Equal(3, RoundQuorum.Of(new ExperimentConfig { Workers = 6, K = 4, Deadline = 1 })!.KMin);
    }

    [Fact]
    public void Auto_k_says_nothing() => Assert.Null(RoundQuorum.Of(new ExperimentConfig { Workers = 6, AutoK = true }));
}

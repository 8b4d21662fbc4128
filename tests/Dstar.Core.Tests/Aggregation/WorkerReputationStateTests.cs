using Dstar.Core.Aggregation;
using Xunit;

namespace Dstar.Core.Tests.Aggregation;

public class WorkerReputationStateTests
{
    /// <summary>Random filter outcomes for N workers over some rounds, as the dstar rule records them.</summary>
    private static void Play(WorkerReputation reputation, Random random, int workers, int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            for (int w = 0; w < workers; w++)
            {
                if (!reputation.Excludes(w) && random.NextDouble() < 0.8)
                {
                    reputation.Record(w, kept: w % 3 != 0 || random.NextDouble() < 0.3);
                }
            }

            reputation.EndRound();
        }
    }

    [Fact]
    public void A_restored_reputation_judges_every_later_round_as_the_original()
    {
        for (int seed = 0; seed < 10; seed++)
        {
            var original = new WorkerReputation(0.7, 0.5, 3);
            Play(original, new Random(seed), 9, 15);
            var copy = new WorkerReputation(0.7, 0.5, 3);
            copy.Restore(original.Capture());

            // The same outcomes from here on: same scores and exclusions every round.
            var a = new Random(100 + seed);
            var b = new Random(100 + seed);
            for (int r = 0; r < 10; r++)
            {
                Play(original, a, 9, 1);
                Play(copy, b, 9, 1);
                Assert.Equal(Enumerable.Range(0, 9).Select(original.Score), Enumerable.Range(0, 9).Select(copy.Score));
                Assert.Equal(Enumerable.Range(0, 9).Select(original.Excludes), Enumerable.Range(0, 9).Select(copy.Excludes));
            }

            Assert.True(original.Capture().ExcludedUntil.Any(u => u > 0), "the play never excluded anyone");
        }
    }

    [Fact]
    public void A_malformed_state_is_refused_and_changes_nothing()
    {
        var reputation = new WorkerReputation(0.5, 0.6, 2);
        Play(reputation, new Random(1), 4, 6);
        var before = reputation.Capture();
        Assert.Throws<ArgumentException>(() => reputation.Restore(new ReputationState(3, [1, 1], [0])));
        Assert.Throws<ArgumentException>(() => reputation.Restore(new ReputationState(-1, [1], [0])));
        Assert.Contains("worker 1", Assert.Throws<ArgumentException>(() => reputation.Restore(new ReputationState(3, [1, double.NaN], [0, 0]))).Message);
        Assert.Throws<ArgumentException>(() => reputation.Restore(new ReputationState(3, [1, 0.5], [0, -2])));
        Assert.Equivalent(before, reputation.Capture(), strict: true);
    }
}

using Dstar.Engine.Server;
using Xunit;

namespace Dstar.Engine.Tests.Server;

public class AdaptiveKTests
{
    private const int N = 20;

    /// <summary>Feeds <paramref name="rounds"/> rounds of N response times each (all known), with the given noise statistics.</summary>
    private static (AdaptiveK Policy, double Now) Feed(AdaptiveK policy, Func<int, int, double> time, int rounds, double variance, double signal)
    {
        double now = 0;
        for (int r = 0; r < rounds; r++)
        {
            var times = new double[N];
            for (int w = 0; w < N; w++)
            {
                times[w] = time(r, w);
            }

            policy.Observe(r, now, times, variance, signal);
            now += times.Max();
        }

        return (policy, now);
    }

    private static Func<int, int, double> Pareto(double alpha, int seed)
    {
        var random = new Random(seed);
        var draws = new double[1000, N];
        for (int r = 0; r < 1000; r++)
        {
            for (int w = 0; w < N; w++)
            {
                draws[r, w] = Math.Pow(1 - random.NextDouble(), -1 / alpha);
            }
        }

        return (r, w) => draws[r, w];
    }

    [Fact]
    public void First_round_with_nothing_observed_uses_k_max()
    {
        var policy = new AdaptiveK(N, 3, 17);
        var choice = policy.Choose(0);
        Assert.Equal(17, choice.K);
        Assert.Contains("warm-up", choice.Reason);
    }

    [Fact]
    public void Constant_delays_pick_k_max_whatever_the_noise()
    {
        foreach (var (variance, signal) in new[] { (0.01, 1.0), (1.0, 1.0), (100.0, 1.0) })
        {
            var (policy, now) = Feed(new AdaptiveK(N, 1, N), (_, _) => 2.0, 25, variance, signal);
            Assert.Equal(N, policy.Choose(now).K);
        }
    }

    [Fact]
    public void Heavy_tailed_delays_with_clean_gradients_pick_a_small_k()
    {
        var (policy, now) = Feed(new AdaptiveK(N, 1, N), Pareto(1.5, seed: 4), 20, variance: 1, signal: 1);
        var choice = policy.Choose(now);
        Assert.InRange(choice.K, 1, N / 2);
        Assert.Equal(1.0, choice.NoiseScale!.Value, 6);
    }

    [Fact]
    public void Noisier_gradients_never_pick_a_smaller_k()
    {
        var delays = Pareto(1.5, seed: 9);
        int previous = 0;
        foreach (var phi in new[] { 0.1, 1, 5, 20, 100, 1000 })
        {
            var (policy, now) = Feed(new AdaptiveK(N, 1, N), delays, 20, variance: phi, signal: 1);
            int k = policy.Choose(now).K;
            Assert.True(k >= previous, $"phi = {phi}: k = {k} after {previous}");
            previous = k;
        }

        Assert.True(previous > 1);
    }

    [Fact]
    public void Choice_maximises_progress_per_second_over_a_brute_force_reference()
    {
        var delays = Pareto(1.5, seed: 11);
        var (policy, now) = Feed(new AdaptiveK(N, 4, 18), delays, 20, variance: 6, signal: 2);
        double phi = 3;
        // Progress max(0, 1 − φ/k) per round, divided by the time to the k-th arrival.
        int best = -1;
        double bestScore = double.NegativeInfinity;
        for (int k = 4; k <= 18; k++)
        {
            // The reference: the mean over the 20 rounds of the k-th smallest time.
            double mean = Enumerable.Range(0, 20).Select(r => Enumerable.Range(0, N).Select(w => delays(r, w)).Order().ElementAt(k - 1)).Average();
            double score = Math.Max(0, 1 - (phi / k)) / mean;
            if (score > bestScore)
            {
                (best, bestScore) = (k, score);
            }
        }

        Assert.Equal(best, policy.Choose(now).K);
    }

    [Fact]
    public void Noise_that_no_k_can_beat_falls_back_to_the_most_gradients_per_second()
    {
        // Worker w answers at 1 + w/10 except the last two, ten times slower: k/T(k) peaks at 18.
        var (policy, now) = Feed(new AdaptiveK(N, 1, N), (_, w) => w < 18 ? 1 + (w / 10.0) : 30, 20, variance: 40, signal: 1);
        Assert.Equal(18, policy.Choose(now).K);
        Assert.Contains("no k with progress", policy.Last!.Reason);
    }

    [Fact]
    public void Never_picks_below_the_floor_even_when_the_floor_is_slow()
    {
        // Worker w answers at 1 + w³: every extra gradient is much slower, yet the floor holds.
        var (policy, now) = Feed(new AdaptiveK(N, 12, N), (_, w) => 1 + Math.Pow(w, 3), 20, variance: 0.01, signal: 1);
        Assert.Equal(12, policy.Choose(now).K);
        Assert.Contains("floor", policy.Last!.Reason);
    }

    [Fact]
    public void Floor_is_the_largest_of_k_min_the_rule_and_three_f()
    {
        bool Krum(int n, int f) => n >= (2 * f) + 3;
        Assert.Equal(12, AdaptiveK.FloorFor(null, 4, n => Krum(n, 4), N).Floor);
        Assert.Equal(5, AdaptiveK.FloorFor(null, 1, n => Krum(n, 1), N).Floor);
        Assert.Equal(7, AdaptiveK.FloorFor(7, 1, n => Krum(n, 1), N).Floor);
        Assert.Equal(1, AdaptiveK.FloorFor(null, 0, null, N).Floor);
        Assert.Contains("3f", AdaptiveK.FloorFor(null, 4, null, N).Why);
        Assert.True(AdaptiveK.FloorFor(null, 9, n => Krum(n, 9), N).Floor > N);
    }

    [Fact]
    public void Workers_that_never_answer_push_k_below_the_live_count_once_time_passes()
    {
        var policy = new AdaptiveK(N, 1, N);
        double now = 0;
        for (int r = 0; r < 20; r++)
        {
            // Workers 18 and 19 crashed: only 18 times are ever known, and they keep the window open.
            var times = Enumerable.Range(0, N - 2).Select(w => 1.0 + (0.01 * w)).ToArray();
            policy.Observe(r, now, times, variance: 2, squaredMean: 1);
            now += 1.2;
        }

        Assert.InRange(policy.Choose(now).K, 1, N - 2);
    }

    [Fact]
    public void Late_times_fill_in_a_round_and_the_window_forgets_old_rounds()
    {
        var policy = new AdaptiveK(N, 1, N);
        policy.Observe(0, 0, [1.0, 2.0], 1, 1, lateMayArrive: false);
        Assert.Equal(2.0, policy.ArrivalTime(3, now: 100));
        policy.ObserveLate(0, 5.0);
        Assert.Equal(5.0, policy.ArrivalTime(3, now: 100));
        Assert.Equal(2.0, policy.ArrivalTime(2, now: 100));

        for (int r = 1; r <= AdaptiveK.Window; r++)
        {
            policy.Observe(r, r, [3.0, 3.0, 3.0], 1, 1, lateMayArrive: false);
        }

        Assert.Equal(3.0, policy.ArrivalTime(1, now: 100));
        policy.ObserveLate(0, 7.0); // round 0 left the window: ignored
        Assert.Equal(3.0, policy.ArrivalTime(3, now: 100));
    }

    [Fact]
    public void Same_observations_give_the_same_choices()
    {
        var delays = Pareto(1.5, seed: 2);
        var a = Feed(new AdaptiveK(N, 2, N), delays, 30, 3, 1);
        var b = Feed(new AdaptiveK(N, 2, N), delays, 30, 3, 1);
        Assert.Equal(a.Policy.Choose(a.Now), b.Policy.Choose(b.Now));
    }

    [Fact]
    public void Bounds_out_of_order_are_refused_with_the_values()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveK(N, 12, 10));
        Assert.Contains("floor 12, k_max 10", e.Message);
    }
}

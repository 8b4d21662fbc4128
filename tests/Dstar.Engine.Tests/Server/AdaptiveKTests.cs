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
    public void First_round_with_nothing_observed_starts_at_the_median_worker_within_the_bounds()
    {
        var choice = new AdaptiveK(N, 3, 17).Choose(0);
        Assert.Equal(10, choice.K);
        Assert.Contains("start", choice.Reason);
        Assert.Equal(12, new AdaptiveK(N, 12, N).Choose(0).K);
        Assert.Equal(6, new AdaptiveK(N, 1, 6).Choose(0).K);
        Assert.Equal(2, new AdaptiveK(3, 1, 3).Choose(0).K);
        Assert.Equal(1, new AdaptiveK(1, 1, 1).Choose(0).K);
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
    public void Workers_not_yet_measured_are_not_waited_for()
    {
        // Persistent stragglers: 18 workers answer at 1 s, 2 at 10 s. A round that read 10 learns the other 8 fast
        // times once the clock passes them; the 2 slow ones are still out when the next round is chosen.
        var policy = new AdaptiveK(N, 1, N);
        policy.Observe(0, 0, Enumerable.Repeat(1.0, 10).ToArray(), variance: 1, squaredMean: 1);
        for (int i = 0; i < 8; i++)
        {
            policy.ObserveLate(0, 1.0);
        }

        Assert.Equal(18, policy.MeasuredCount);
        var choice = policy.Choose(now: 1.0);
        Assert.Equal(18, choice.K);
        Assert.Contains("largest measured", choice.Reason);

        // Once measured, the slow pair is too slow to wait for; had they been as fast, k_max would win.
        policy.ObserveLate(0, 10.0);
        policy.ObserveLate(0, 10.0);
        Assert.Equal(N, policy.MeasuredCount);
        Assert.Equal(18, policy.Choose(now: 10.0).K);

        var fast = new AdaptiveK(N, 1, N);
        fast.Observe(0, 0, Enumerable.Repeat(1.0, N).ToArray(), variance: 1, squaredMean: 1);
        Assert.Equal(N, fast.Choose(now: 1.0).K);
    }

    [Fact]
    public void Round_times_a_cluster_never_learns_count_as_measured()
    {
        // dstar work drops superseded work: the close time stands in for the rest, so a larger k can be tried.
        var policy = new AdaptiveK(N, 1, N);
        policy.Observe(0, 0, Enumerable.Repeat(1.0, 10).ToArray(), variance: 1, squaredMean: 1, lateMayArrive: false);
        Assert.Equal(N, policy.MeasuredCount);
        Assert.Equal(N, policy.Choose(now: 1.0).K);
    }

    [Fact]
    public void Expected_kept_count_matches_a_naive_reference_on_random_rounds()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            var policy = new AdaptiveK(N, 1, N);
            var rounds = new List<bool[]?>();
            int count = random.Next(1, AdaptiveK.Window + 10);
            for (int r = 0; r < count; r++)
            {
                int read = random.Next(1, N + 1);
                bool[]? kept = random.NextDouble() < 0.15 ? null : Enumerable.Range(0, read).Select(_ => random.NextDouble() < 0.7).ToArray();
                policy.Observe(r, r, Enumerable.Repeat(1.0, read).ToArray(), 1, 1, kept: kept);
                rounds.Add(kept);
            }

            // The reference: per rank, the kept fraction over the window's rounds that read it (the nearest smaller
            // rank read when none did, 1 when no rank was), summed.
            var window = rounds.Skip(Math.Max(0, rounds.Count - AdaptiveK.Window)).ToList();
            double sum = 0, last = 1;
            for (int j = 1; j <= N; j++)
            {
                var read = window.Where(k => k is not null && k.Length >= j).ToList();
                double q = read.Count == 0 ? last : read.Count(k => k![j - 1]) / (double)read.Count;
                sum += q;
                last = q;
                Assert.Equal(sum, policy.ExpectedKept(j), 10);
            }
        }
    }

    [Fact]
    public void Gradients_the_rule_always_drops_do_not_count_as_progress()
    {
        // Four fast Byzantine gradients arrive first and are always dropped: k gradients read buy k − 4 kept ones.
        var delays = Pareto(1.5, seed: 13);
        const double variance = 8, signal = 1;
        var policy = new AdaptiveK(N, 12, N);
        double now = 0;
        for (int r = 0; r < 20; r++)
        {
            var times = Enumerable.Range(0, N).Select(w => w < 4 ? 0 : delays(r, w)).ToArray();
            var kept = times.Select((t, w) => (t, w)).OrderBy(p => p.t).ThenBy(p => p.w).Select(p => p.w >= 4).ToArray();
            policy.Observe(r, now, times, variance, signal, kept: kept);
            now += times.Max();
        }

        int best = -1;
        double bestScore = 0;
        for (int k = 12; k <= N; k++)
        {
            double mean = Enumerable.Range(0, 20).Select(r => Enumerable.Range(0, N).Select(w => w < 4 ? 0 : delays(r, w)).Order().ElementAt(k - 1)).Average();
            double score = Math.Max(0, 1 - (variance / signal / (k - 4))) / mean;
            if (score > bestScore)
            {
                (best, bestScore) = (k, score);
            }
        }

        Assert.Equal(16, policy.ExpectedKept(20), 10);
        Assert.Equal(best, policy.Choose(now).K);
        Assert.True(best > 12, $"the reference picked {best}");
    }

    [Fact]
    public void A_restored_window_chooses_as_the_original()
    {
        var delays = Pareto(1.5, seed: 21);
        var random = new Random(3);
        var original = new AdaptiveK(N, 2, N);
        double now = 0;
        for (int r = 0; r < 27; r++)
        {
            int read = random.Next(2, N + 1);
            var times = Enumerable.Range(0, N).Select(w => delays(r, w)).Order().ToArray();
            original.Observe(r, now, times[..read], random.NextDouble(), 1, kept: Enumerable.Range(0, read).Select(_ => random.NextDouble() < 0.9).ToArray());
            now += times[read - 1];
            original.ObserveLate(r, times[read - 1] + 0.5);
        }

        var copy = new AdaptiveK(N, 2, N);
        copy.Restore(original.Capture());
        foreach (var at in new[] { now, now + 3, now + 100 })
        {
            Assert.Equal(original.Choose(at), copy.Choose(at));
        }

        original.Observe(27, now, [1.0, 2.0, 3.0], 2, 1);
        copy.Observe(27, now, [1.0, 2.0, 3.0], 2, 1);
        Assert.Equal(original.Choose(now + 1), copy.Choose(now + 1));
        Assert.Equal(AdaptiveK.Window, copy.Capture().Count);
    }

    [Fact]
    public void A_bad_window_is_refused_and_changes_nothing()
    {
        var policy = new AdaptiveK(N, 1, N);
        policy.Observe(0, 0, [1.0, 2.0], 1, 1);
        var before = policy.Capture();
        var unsorted = new KObservation(1, 0, [2.0, 1.0], 1, 1, true, null);
        var tooMany = new KObservation(1, 0, new double[N + 1], 1, 1, true, null);
        var outOfOrder = new[] { new KObservation(3, 0, [1.0], 1, 1, true, null), new KObservation(2, 0, [1.0], 1, 1, true, null) };
        Assert.Contains("sorted", Assert.Throws<ArgumentException>(() => policy.Restore([unsorted])).Message);
        Assert.Throws<ArgumentException>(() => policy.Restore([tooMany]));
        Assert.Contains("out of order", Assert.Throws<ArgumentException>(() => policy.Restore(outOfOrder)).Message);
        Assert.Equivalent(before, policy.Capture(), strict: true);
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

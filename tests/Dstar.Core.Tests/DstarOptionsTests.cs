using Dstar.Core.Aggregation;
using Dstar.Core.Specs;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Core.Tests;

/// <summary>Our options of the dstar rule (docs/method.md) against a naive implementation in double.</summary>
public class DstarOptionsTests
{
    private sealed record Options(
        double Tau = 2, string Center = "median", string Reference = "validation", double Quantile = 0.5, bool Include = false,
        double Direction = double.NegativeInfinity, double Scale = double.PositiveInfinity, bool Clip = false,
        double Duplicates = 0, bool ClippedMean = false)
    {
        public string Spec
        {
            get
            {
                var parts = new List<string> { $"dstar tau={Tau} center={Center} reference={Reference} quantile={Quantile} include-validation={Include}" };
                if (!double.IsNegativeInfinity(Direction)) parts.Add($"direction={Direction}");
                if (!double.IsPositiveInfinity(Scale)) parts.Add($"scale={Scale} scale-mode={(Clip ? "clip" : "drop")}");
                if (Duplicates > 0) parts.Add($"duplicates={Duplicates}");
                if (ClippedMean) parts.Add("mean=clipped");
                return string.Join(' ', parts);
            }
        }
    }

    private static double Norm(IEnumerable<double> x) => Math.Sqrt(x.Sum(v => v * v));

    private static double[] D(float[] x) => x.Select(v => (double)v).ToArray();

    /// <summary>The whole round in plain loops: screen, one vote per duplicate group, centre, τ test, mean.</summary>
    private static (double[] Output, int[] Kept, double[] Scores) Naive(float[][] rows, float[] g0f, Options o)
    {
        int n = rows.Length, d = g0f.Length;
        var g = rows.Select(D).ToArray();
        var g0 = D(g0f);
        double n0 = Norm(g0);
        var scores = Enumerable.Repeat(double.NaN, n).ToArray();
        var candidates = Enumerable.Range(0, n).Where(i =>
        {
            double ni = Norm(g[i]);
            double cos = ni > 0 && n0 > 0 ? g[i].Zip(g0, (a, b) => a * b).Sum() / (ni * n0) : 0;
            return !(cos < o.Direction) && (o.Clip || ni <= o.Scale * n0);
        }).ToList();
        if (o.Duplicates > 0)
        {
            var leaders = new List<int>();
            foreach (var i in candidates)
            {
                bool duplicate = leaders.Any(l => Norm(g[i].Zip(g[l], (a, b) => a - b)) <= o.Duplicates * Math.Min(Norm(g[i]), Norm(g[l])));
                if (!duplicate) leaders.Add(i);
            }

            candidates = leaders;
        }

        var m = new double[d];
        for (int j = 0; j < d; j++)
        {
            var column = candidates.Select(i => g[i][j]);
            m[j] = o.Center switch
            {
                "median" => Columns.MedianOf(column.Append(g0[j]).ToArray()),
                "exclude-validation" => candidates.Count == 0 ? 0 : Columns.MedianOf(column.ToArray()),
                _ => g0[j],
            };
        }

        double Dev(double[] x) => Norm(x.Zip(m, (a, b) => a - b));
        var deviations = candidates.Select(i => Dev(g[i])).ToArray();
        double reference;
        if (o.Reference == "validation")
        {
            reference = Dev(g0);
        }
        else if (deviations.Length == 0)
        {
            reference = 0;
        }
        else
        {
            var s = deviations.OrderBy(x => x).ToArray();
            double p = (o.Reference == "quantile" ? o.Quantile : 0.5) * (s.Length - 1);
            int lo = (int)Math.Floor(p);
            reference = s[lo] + ((p - lo) * (s[Math.Min(lo + 1, s.Length - 1)] - s[lo]));
        }

        var kept = new List<int>();
        for (int c = 0; c < candidates.Count; c++)
        {
            int i = candidates[c];
            scores[i] = deviations[c] == 0 ? 0 : deviations[c] / reference;
            if (deviations[c] <= o.Tau * reference) kept.Add(i);
        }

        kept.Sort();
        if (kept.Count == 0) return (g0, [], scores);
        var voters = kept.Select(i =>
        {
            double ni = Norm(g[i]);
            double bound = o.Scale * n0;
            return o.Clip && ni > bound ? g[i].Select(v => v * bound / ni).ToArray() : g[i];
        }).ToList();
        int votes = voters.Count + (o.Include ? 1 : 0);
        var output = new double[d];
        if (o.ClippedMean)
        {
            var dist = voters.Select(x => Norm(x.Zip(g0, (a, b) => a - b))).ToArray();
            var sorted = dist.OrderBy(x => x).ToArray();
            double p = 0.5 * (sorted.Length - 1);
            int lo = (int)Math.Floor(p);
            double r = sorted[lo] + ((p - lo) * (sorted[Math.Min(lo + 1, sorted.Length - 1)] - sorted[lo]));
            for (int j = 0; j < d; j++)
            {
                output[j] = g0[j] + Enumerable.Range(0, voters.Count).Sum(a => Math.Min(1, dist[a] > 0 ? r / dist[a] : 1) * (voters[a][j] - g0[j]) / votes);
            }
        }
        else
        {
            if (o.Include) voters.Add(g0);
            for (int j = 0; j < d; j++) output[j] = voters.Sum(x => x[j]) / votes;
        }

        return (output, kept.ToArray(), scores);
    }

    private static float[][] Rows(Random rng, int n, int d)
    {
        var rows = Columns.Grid(rng, n, d);
        // Some rows copy an earlier one, exactly or with a little noise: colluders that send one vector.
        for (int i = 1; i < n; i++)
        {
            if (rng.Next(3) == 0)
            {
                int source = rng.Next(i);
                double noise = rng.Next(2) == 0 ? 0 : 0.25; // far below ε·‖g‖ (ε = 0.05, ‖g‖ ≈ 58·√d), far above float round-off
                rows[i] = rows[source].Select(v => (float)(v + (noise * Columns.Normal(rng)))).ToArray();
            }
        }

        return rows;
    }

    private static Options RandomOptions(Random rng)
    {
        string center = new[] { "median", "exclude-validation", "validation" }[rng.Next(3)];
        string reference = center == "validation" ? new[] { "median-deviation", "quantile" }[rng.Next(2)] : new[] { "validation", "median-deviation", "quantile" }[rng.Next(3)];
        return new Options(
            Tau: new[] { 0.5, 1, 1.5, 2, 5 }[rng.Next(5)],
            Center: center,
            Reference: reference,
            Quantile: new[] { 0.25, 0.5, 0.8 }[rng.Next(3)],
            Include: rng.Next(2) == 0,
            Direction: rng.Next(2) == 0 ? double.NegativeInfinity : new[] { -0.2, 0, 0.1 }[rng.Next(3)],
            Scale: rng.Next(2) == 0 ? double.PositiveInfinity : new[] { 0.8, 1.5, 3 }[rng.Next(3)],
            Clip: rng.Next(2) == 0,
            Duplicates: rng.Next(2) == 0 ? 0 : 0.05,
            ClippedMean: rng.Next(2) == 0);
    }

    [Property(MaxTest = 150)]
    public Property Dstar_options_equal_the_naive_filter(int a, int b, int seed)
    {
        var (n, d) = Columns.Shape(a, b);
        var rng = new Random(seed);
        var rows = Rows(rng, n, d);
        var g0 = Columns.Grid(rng, 1, d)[0];
        var options = RandomOptions(rng);
        var output = new float[d];
        var report = Registry.Rules.Create(options.Spec).Aggregate(GradientBatch.FromRows(rows), new AggregationContext { ValidationGradient = g0 }, output);
        var expected = Naive(rows, g0, options);
        // Scores are deviation / reference in float32. When the reference is a low quantile of the deviations (a noisy
        // copy of another row sits near the centre), its round-off is amplified by ‖g‖ / reference: 1e-4 relative was
        // measured (CI seed 18287338604758806680,6465099756900083705). A wrong formula is off by far more than 1e-3.
        const double relative = 1e-3;
        bool onEdge = Enumerable.Range(0, n).Any(i => double.IsFinite(expected.Scores[i]) && Math.Abs(expected.Scores[i] - options.Tau) <= relative * (1 + expected.Scores[i]));
        if (onEdge)
        {
            return true.ToProperty(); // a row on the threshold may fall either way in float
        }

        bool scores = Enumerable.Range(0, n).All(i =>
            double.IsNaN(expected.Scores[i]) ? double.IsNaN(report.Scores![i])
            : double.IsInfinity(expected.Scores[i]) ? report.Scores![i] == expected.Scores[i]
            : Math.Abs(report.Scores![i] - expected.Scores[i]) <= relative * (1 + expected.Scores[i]));
        return (report.Kept.SequenceEqual(expected.Kept) && scores && Columns.AllClose(output, j => expected.Output[j], 1e-4))
            .Label($"{options.Spec}: kept {string.Join(',', report.Kept)} vs {string.Join(',', expected.Kept)}; scores {string.Join(',', report.Scores!)} vs {string.Join(',', expected.Scores)}; out {output[0]} vs {expected.Output[0]}");
    }

    // Wider than a column tile and past 16 rows, so the screen's pass and the weighted mean go group by group and tile
    // by tile (and split columns between threads); rows include exact and noisy copies.
    [Theory]
    [InlineData(20, 1, "dstar-plus")]
    [InlineData(24, 2, "dstar-plus")]
    [InlineData(12, 2, "dstar-plus scale-mode=drop mean=plain include-validation=true")]
    public void Dstar_plus_on_wide_batches_equals_the_naive_filter(int n, int threads, string spec)
    {
        var rng = new Random(n * 7 + threads);
        int d = Dstar.Core.Kernels.StreamGroups.TileColumns + 4_321;
        var rows = Rows(rng, n, d);
        var g0 = Columns.Grid(rng, 1, d)[0];
        var rule = (DstarFilter)Registry.Rules.Create(spec);
        var options = new Options(
            Tau: rule.Tau, Center: "median", Reference: rule.Reference == DstarReference.Quantile ? "quantile" : "validation", Quantile: rule.Quantile,
            Include: rule.IncludeValidation, Direction: rule.Direction, Scale: rule.Scale, Clip: rule.ScaleMode == DstarScaleMode.Clip,
            Duplicates: rule.Duplicates, ClippedMean: rule.Mean == DstarMean.Clipped);
        var output = new float[d];
        var report = rule.Aggregate(GradientBatch.FromRows(rows), new AggregationContext { ValidationGradient = g0, MaxDegreeOfParallelism = threads }, output);
        var expected = Naive(rows, g0, options);
        Assert.Equal(expected.Kept, report.Kept);
        for (int i = 0; i < n; i++)
        {
            Assert.True(double.IsNaN(expected.Scores[i]) ? double.IsNaN(report.Scores![i]) : Math.Abs(report.Scores![i] - expected.Scores[i]) <= 1e-3 * (1 + expected.Scores[i]), $"row {i}");
        }

        Assert.True(Columns.AllClose(output, j => expected.Output[j], 1e-4));
    }

    [Fact]
    public void Dstar_gives_identical_colluders_one_vote_in_the_centre_and_the_mean()
    {
        var rng = new Random(3);
        int d = 50;
        var mu = Enumerable.Range(0, d).Select(_ => (float)Columns.Normal(rng)).ToArray();
        var honest = Columns.Gaussian(rng, 6, mu, 0.5);
        var attacker = mu.Select(v => -v).ToArray();
        var rows = honest.Concat(Enumerable.Repeat(attacker, 5)).ToArray();
        var output = new float[d];
        var report = Registry.Rules.Create("dstar duplicates=0.01 reference=median-deviation tau=100").Aggregate(GradientBatch.FromRows(rows), new AggregationContext { ValidationGradient = mu }, output);
        Assert.Equal(7, report.Kept.Count);            // six honest rows and one of the five copies
        Assert.Contains(6, report.Kept);
        Assert.All(Enumerable.Range(7, 4), i => Assert.DoesNotContain(i, report.Kept));
        Assert.Equal(1.0 / 7, report.Weights![6], 12);
    }

    [Fact]
    public void Dstar_direction_check_drops_sign_flipped_rows()
    {
        var rng = new Random(5);
        var mu = Enumerable.Range(0, 40).Select(_ => (float)Columns.Normal(rng)).ToArray();
        var rows = Columns.Gaussian(rng, 8, mu, 0.3).Concat(Enumerable.Repeat(mu.Select(v => -v).ToArray(), 4)).ToArray();
        var report = Registry.Rules.Create("dstar direction=0").Aggregate(GradientBatch.FromRows(rows), new AggregationContext { ValidationGradient = mu }, new float[40]);
        Assert.All(Enumerable.Range(8, 4), i => Assert.DoesNotContain(i, report.Kept));
    }

    [Fact]
    public void Dstar_paper_options_are_the_defaults()
    {
        var rule = (DstarFilter)Registry.Rules.Create("dstar");
        Assert.Equal((2.0, DstarCenter.Median, DstarReference.Validation, DstarMean.Plain), (rule.Tau, rule.Center, rule.Reference, rule.Mean));
        Assert.True(double.IsNegativeInfinity(rule.Direction) && double.IsPositiveInfinity(rule.Scale) && rule.Duplicates == 0 && rule.Reputation is null);
    }

    [Theory]
    [InlineData("dstar-plus", "dstar direction=0 duplicates=0.05 reference=quantile scale=2 scale-mode=clip mean=clipped")]
    [InlineData("dstar-plus tau=3 mean=plain", "dstar tau=3 direction=0 duplicates=0.05 reference=quantile scale=2 scale-mode=clip")]
    [InlineData("dstar-plus direction=-1 scale-mode=drop reference=validation", "dstar direction=-1 duplicates=0.05 scale=2 mean=clipped")]
    public void Dstar_plus_is_dstar_with_our_defaults_and_takes_every_option(string plus, string spelled)
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = rng.Next(3, 16), d = rng.Next(1, 200);
            var rows = Rows(rng, n, d);
            var g0 = Columns.Grid(rng, 1, d)[0];
            var a = new float[d];
            var b = new float[d];
            var ra = Registry.Rules.Create(plus).Aggregate(GradientBatch.FromRows(rows), new AggregationContext { ValidationGradient = g0 }, a);
            var rb = Registry.Rules.Create(spelled).Aggregate(GradientBatch.FromRows(rows), new AggregationContext { ValidationGradient = g0 }, b);
            Assert.Equal(rb.Kept, ra.Kept);
            Assert.Equal(b, a);
        }
    }

    [Theory]
    [InlineData("dstar direction=2", "direction")]
    [InlineData("dstar scale=0", "scale")]
    [InlineData("dstar scale-mode=shrink", "scale-mode")]
    [InlineData("dstar duplicates=1", "duplicates")]
    [InlineData("dstar center=validation", "reference")]
    [InlineData("dstar reference=quantile quantile=1.5", "quantile")]
    [InlineData("dstar mean=trimmed", "mean")]
    [InlineData("dstar reputation=1", "reputation")]
    [InlineData("dstar reputation=0.9 probation=0", "probation")]
    public void Dstar_spec_refuses_bad_new_options(string spec, string named)
    {
        var error = Assert.Throws<SpecException>(() => Registry.Rules.Create(spec));
        Assert.Contains(named, error.Message);
    }
}

/// <summary>dstar reputation=λ exclude=θ probation=P over rounds, against a naive score keeper.</summary>
public class DstarReputationTests
{
    [Property(MaxTest = 40)]
    public Property Reputation_follows_the_naive_score_keeper(int seed)
    {
        var rng = new Random(seed);
        int workers = 8, d = 20, rounds = 40, probation = 1 + rng.Next(6);
        double decay = new[] { 0.5, 0.8, 0.9 }[rng.Next(3)], threshold = new[] { 0.3, 0.5, 0.7 }[rng.Next(3)];
        var rule = (DstarFilter)Registry.Rules.Create($"dstar reference=median-deviation center=exclude-validation tau=1.2 reputation={decay} exclude={threshold} probation={probation}");
        var score = Enumerable.Repeat(1.0, workers).ToArray();
        var until = new int[workers];
        var mu = Enumerable.Range(0, d).Select(_ => (float)Columns.Normal(rng)).ToArray();
        for (int t = 0; t < rounds; t++)
        {
            // A random subset answers (slow workers are not scored); worker 7 is far off half of the time.
            var present = Enumerable.Range(0, workers).Where(_ => rng.Next(4) != 0).ToList();
            if (present.Count < 2)
            {
                present = [0, 7];
            }

            var rows = present.Select(w => w == 7 && rng.Next(2) == 0 ? mu.Select(v => v * -20).ToArray() : Columns.Gaussian(rng, 1, mu, 1)[0]).ToList();
            var context = new AggregationContext { Workers = present };
            var report = rule.Aggregate(GradientBatch.FromRows(rows), context, new float[d]);
            var candidates = Enumerable.Range(0, present.Count).Where(r => until[present[r]] <= t).ToList();
            foreach (var r in report.Kept)
            {
                if (!candidates.Contains(r))
                {
                    return false.Label($"round {t}: kept row {r} of excluded worker {present[r]}");
                }
            }

            foreach (var r in candidates)
            {
                int w = present[r];
                score[w] = (decay * score[w]) + ((1 - decay) * (report.Kept.Contains(r) ? 1 : 0));
                if (score[w] < threshold)
                {
                    until[w] = t + 1 + probation;
                    score[w] = threshold;
                }
            }

            for (int w = 0; w < workers; w++)
            {
                if (Math.Abs(rule.Reputation!.Score(w) - score[w]) > 1e-12 || rule.Reputation.Excludes(w) != (until[w] > t + 1))
                {
                    return false.Label($"round {t}, worker {w}: score {rule.Reputation.Score(w)} vs {score[w]}");
                }
            }
        }

        return true.ToProperty();
    }

    [Fact]
    public void Reputation_readmits_a_worker_after_probation()
    {
        var reputation = new WorkerReputation(decay: 0.5, threshold: 0.6, probation: 3);
        reputation.Record(4, kept: false);                 // 1 → 0.5 < 0.6: out for rounds 1..3
        reputation.EndRound();
        Assert.True(reputation.Excludes(4));
        reputation.EndRound();
        reputation.EndRound();
        Assert.True(reputation.Excludes(4));
        reputation.EndRound();
        Assert.False(reputation.Excludes(4));              // readmitted on the edge
        reputation.Record(4, kept: true);
        Assert.True(reputation.Score(4) > 0.6);
    }

    [Fact]
    public void Reputation_refuses_rows_without_worker_ids()
    {
        var rule = Registry.Rules.Create("dstar reputation=0.9");
        var error = Assert.Throws<AggregationException>(() => rule.Aggregate(GradientBatch.FromRows([[1f, 2f]]), new AggregationContext { ValidationGradient = [1f, 1f] }, new float[2]));
        Assert.Contains("worker id", error.Message);
    }
}

using Dstar.Studies.Definition;
using Dstar.Studies.Report;

namespace Dstar.Studies.Tests.Report;

public class AggregationTests
{
    private static RunResult Run(int seed, double? final, params (long Round, double Time, double Accuracy)[] curve) =>
        new(seed, final, final, null, null, null, 10, 30, null, curve.Select(p => new EvaluationPoint(p.Round, p.Time, p.Accuracy)).ToArray());

    private static IndexedCell Cell(string rule, string attack, string? tune = null, string scenario = "iid") =>
        new($"{rule}-{attack}-{tune}-{scenario}", new Dictionary<string, string> { ["aggregator"] = rule, ["attack"] = attack, ["data.partition"] = scenario }, rule, attack,
            new Dictionary<string, string> { ["data.partition"] = scenario }, tune, [1, 2, 3]);

    private static (double Mean, double Std) Naive(IReadOnlyList<double> values)
    {
        double sum = 0;
        for (int i = 0; i < values.Count; i++)
        {
            sum += values[i];
        }

        double mean = sum / values.Count;
        double squares = 0;
        for (int i = 0; i < values.Count; i++)
        {
            squares += (values[i] - mean) * (values[i] - mean);
        }

        return (mean, values.Count > 1 ? Math.Sqrt(squares / (values.Count - 1)) : 0);
    }

    [Fact]
    public void Estimate_equals_a_naive_mean_and_sample_std_and_skips_missing_values()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            var values = Enumerable.Range(0, random.Next(1, 8)).Select(_ => random.Next(4) == 0 ? (double?)null : random.NextDouble()).ToArray();
            var present = values.Where(v => v is not null).Select(v => v!.Value).ToArray();
            var e = Estimate.Of(values);
            Assert.Equal(present.Length, e.Count);
            if (present.Length == 0)
            {
                Assert.Null(e.Mean);
                Assert.Null(e.Std);
                continue;
            }

            var (mean, std) = Naive(present);
            Assert.Equal(mean, e.Mean);
            Assert.Equal(std, e.Std);
        }
    }

    [Fact]
    public void Worst_case_is_the_lowest_mean_over_attacks_against_a_naive_computation()
    {
        var random = new Random(5);
        string[] rules = ["mean", "median", "dstar"];
        string[] attacks = ["none", "alie", "ipm", "sign-flip"];
        for (int trial = 0; trial < 50; trial++)
        {
            var finals = new Dictionary<(string, string), double[]>();
            var cells = new List<CellResult>();
            foreach (var rule in rules)
            {
                foreach (var attack in attacks)
                {
                    var values = Enumerable.Range(0, 3).Select(_ => random.NextDouble()).ToArray();
                    finals[(rule, attack)] = values;
                    cells.Add(new CellResult(Cell(rule, attack), values.Select((v, i) => Run(i + 1, v)).ToArray(), [], [], 0.5));
                }
            }

            var results = StudyResults.Build(new StudyIndex("t", 0.5, ["aggregator", "attack"], null, cells.Select(c => c.Cell).ToArray()), cells);
            var table = Assert.Single(results.Tables);
            Assert.Equal(attacks, table.Attacks);
            foreach (var row in table.Rows)
            {
                var means = attacks.Select(a => Naive(finals[(row.Rule, a)]).Mean).ToArray();
                int worst = Array.IndexOf(means, means.Min());
                Assert.Equal(means.Min(), row.WorstCase);
                Assert.Equal(attacks[worst], row.WorstAttack);
                Assert.Equal(0, row.MissingAttacks);
            }
        }
    }

    [Fact]
    public void Tune_picks_per_rule_the_candidate_with_the_best_worst_case_not_the_best_average()
    {
        // lr 0.1: great without attack, collapses under alie (worst 0.2); lr 0.01: decent everywhere (worst 0.6).
        var cells = new List<CellResult>();
        void Add(string rule, string attack, string lr, double accuracy) =>
            cells.Add(new CellResult(Cell(rule, attack, lr), [Run(1, accuracy), Run(2, accuracy), Run(3, accuracy)], [], [], 0.5));
        Add("mean", "none", "0.1", 0.95);
        Add("mean", "alie", "0.1", 0.2);
        Add("mean", "none", "0.01", 0.7);
        Add("mean", "alie", "0.01", 0.6);
        Add("dstar", "none", "0.1", 0.9);
        Add("dstar", "alie", "0.1", 0.85);
        Add("dstar", "none", "0.01", 0.7);
        Add("dstar", "alie", "0.01", 0.65);
        var results = StudyResults.Build(new StudyIndex("t", 0.5, ["aggregator", "attack", "lr"], "lr", cells.Select(c => c.Cell).ToArray()), cells);
        Assert.Equal(["0.01", "0.1"], results.Tuning.Select(t => t.Chosen));
        var table = Assert.Single(results.Tables);
        Assert.Equal([("mean", "0.01", 0.6), ("dstar", "0.1", 0.85)], table.Rows.Select(r => (r.Rule, r.TuneValue!, r.WorstCase!.Value)));
        Assert.Equal(4, results.Selected.Count);
    }

    [Fact]
    public void Tune_ranks_a_candidate_with_missing_attacks_below_complete_ones_and_breaks_ties_by_order()
    {
        Assert.Equal("b", StudyResults.Choose([("a", 0.9, 1), ("b", 0.5, 0), ("c", 0.4, 0)]));
        Assert.Equal("a", StudyResults.Choose([("a", 0.5, 0), ("b", 0.5, 0)]));
        Assert.Equal("b", StudyResults.Choose([("a", null, 2), ("b", 0.1, 1)]));
    }

    [Fact]
    public void Time_to_target_is_the_first_evaluation_at_or_above_it()
    {
        var run = Run(1, 0.8, (4, 3.0, 0.4), (9, 7.5, 0.65), (14, 11.0, 0.6), (19, 15.0, 0.8));
        Assert.Equal((10L, 7.5), run.TimeToTarget(0.65));
        Assert.Equal((20L, 15.0), run.TimeToTarget(0.7));
        Assert.Null(run.TimeToTarget(0.9));
    }

    [Fact]
    public void Heatmap_value_is_the_worst_mean_over_every_other_key()
    {
        var cells = new List<CellResult>();
        foreach (var (rule, attack, scenario, accuracy) in new[] { ("mean", "none", "iid", 0.9), ("mean", "alie", "iid", 0.3), ("mean", "none", "gamma", 0.8), ("mean", "alie", "gamma", 0.5), ("dstar", "alie", "iid", 0.7) })
        {
            cells.Add(new CellResult(Cell(rule, attack, scenario: scenario), [Run(1, accuracy)], [], [], 0.5));
        }

        var results = StudyResults.Build(new StudyIndex("t", 0.5, ["aggregator", "attack", "data.partition"], null, cells.Select(c => c.Cell).ToArray()), cells);
        var (rules, values, worst) = results.WorstCaseBy("data.partition")!.Value;
        Assert.Equal(["mean", "dstar"], rules);
        Assert.Equal(["iid", "gamma"], values);
        Assert.Equal([0.3, 0.5, 0.7, null], new[] { worst[0, 0], worst[0, 1], worst[1, 0], worst[1, 1] });
        Assert.Null(results.WorstCaseBy("byzantine"));
    }
}

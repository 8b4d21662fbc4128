using Dstar.Studies.Definition;
using Dstar.Studies.Sweep;

namespace Dstar.Studies.Report;

/// <summary>A cell's results over its seeds: each quantity's mean ± std over the finished runs.</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Runs">The finished runs, in seed order.</param>
/// <param name="Failures">Runs that failed: seed and recorded error.</param>
/// <param name="Missing">Seeds with neither a finished run nor a recorded failure (not run yet, or interrupted);
/// runs whose files are damaged are in <see cref="CellResult.Damaged"/> instead.</param>
/// <param name="TargetAccuracy">The target that <see cref="TimeToTargetSeconds"/> and <see cref="TimeToTargetRounds"/> time.</param>
public sealed record CellResult(IndexedCell Cell, IReadOnlyList<RunResult> Runs, IReadOnlyList<(int Seed, string Error)> Failures, IReadOnlyList<int> Missing, double TargetAccuracy)
{
    /// <summary>
    /// Runs whose files could not be used (a summary.json or metrics.jsonl that is not valid, or unreadable): seed and
    /// the problem, naming the file. They are left out of every number, like failed runs, and are not counted as not run.
    /// </summary>
    public IReadOnlyList<(int Seed, string Problem)> Damaged { get; init; } = [];

    /// <summary>Final test accuracy.</summary>
    public Estimate FinalAccuracy => Estimate.Of(Runs.Select(r => r.FinalAccuracy));

    /// <summary>Best test accuracy.</summary>
    public Estimate BestAccuracy => Estimate.Of(Runs.Select(r => r.BestAccuracy));

    /// <summary>Virtual seconds to the target, over the seeds that reached it.</summary>
    public Estimate TimeToTargetSeconds => Estimate.Of(Runs.Select(r => r.TimeToTarget(TargetAccuracy)?.Seconds));

    /// <summary>Rounds to the target, over the seeds that reached it.</summary>
    public Estimate TimeToTargetRounds => Estimate.Of(Runs.Select(r => (double?)r.TimeToTarget(TargetAccuracy)?.Rounds));

    /// <summary>Filter precision.</summary>
    public Estimate FilterPrecision => Estimate.Of(Runs.Select(r => r.FilterPrecision));

    /// <summary>Filter recall.</summary>
    public Estimate FilterRecall => Estimate.Of(Runs.Select(r => r.FilterRecall));

    /// <summary>Byzantine fraction of the kept gradients.</summary>
    public Estimate ByzantineKeptFraction => Estimate.Of(Runs.Select(r => r.ByzantineKeptFraction));

    /// <summary>Total virtual seconds of the run.</summary>
    public Estimate VirtualSeconds => Estimate.Of(Runs.Select(r => (double?)r.VirtualSeconds));

    /// <summary>Seeds that reached the target.</summary>
    public int TargetReached => Runs.Count(r => r.TimeToTarget(TargetAccuracy) is not null);
}

/// <summary>One row of a rule × attack table: a rule's mean final accuracy under each attack and its worst case.</summary>
/// <param name="Rule">The rule.</param>
/// <param name="TuneValue">The tuned value chosen for this rule, or null without tuning.</param>
/// <param name="Cells">The cell of each attack (null when the study has no such cell).</param>
/// <param name="WorstCase">The lowest mean final accuracy over the attacks with a value, or null.</param>
/// <param name="WorstAttack">The attack that gives <see cref="WorstCase"/>.</param>
/// <param name="MissingAttacks">Attacks without a value (no finished run): the worst case may be lower.</param>
public sealed record TableRow(string Rule, string? TuneValue, IReadOnlyList<CellResult?> Cells, double? WorstCase, string? WorstAttack, int MissingAttacks);

/// <summary>The rule × attack table of one scenario (one combination of the other varying keys).</summary>
/// <param name="Scenario">The scenario's keys and values (empty when only rules and attacks vary).</param>
/// <param name="Attacks">The columns.</param>
/// <param name="Rows">One row per rule.</param>
public sealed record RuleAttackTable(IReadOnlyDictionary<string, string> Scenario, IReadOnlyList<string> Attacks, IReadOnlyList<TableRow> Rows)
{
    /// <summary>The scenario as one line, <c>key=value, key=value</c> (or <c>all cells</c>).</summary>
    public string Title => Scenario.Count == 0 ? "all cells" : string.Join(", ", Scenario.Select(p => $"{p.Key}={p.Value}"));
}

/// <summary>The tuning of one rule in one scenario: each candidate's worst case over the attacks, and the one chosen.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="Rule">The rule.</param>
/// <param name="Candidates">Each candidate value with its worst case (null when no attack has a value) and missing attacks.</param>
/// <param name="Chosen">The candidate with the highest worst case (complete candidates first; ties go to the first listed).</param>
public sealed record TuningChoice(IReadOnlyDictionary<string, string> Scenario, string Rule, IReadOnlyList<(string Value, double? WorstCase, int MissingAttacks)> Candidates, string Chosen);

/// <summary>Everything the report shows, computed from the run files of a study's output directory.</summary>
/// <param name="Index">plan.json.</param>
/// <param name="Cells">Every cell's results, in plan order.</param>
/// <param name="Tables">One rule × attack table per scenario (with tuning: the chosen candidate's cells only).</param>
/// <param name="Tuning">The tuning choices (empty without <c>tune:</c>).</param>
public sealed record StudyResults(StudyIndex Index, IReadOnlyList<CellResult> Cells, IReadOnlyList<RuleAttackTable> Tables, IReadOnlyList<TuningChoice> Tuning)
{
    /// <summary>The cells the tables use: with tuning, only each rule's chosen candidate.</summary>
    public IReadOnlyList<CellResult> Selected { get; init; } = Cells;

    /// <summary>Reads every run of the study in <paramref name="directory"/> and builds the tables.</summary>
    /// <param name="directory">The sweep's output directory.</param>
    /// <param name="targetAccuracy">Replaces the study's target accuracy when given.</param>
    /// <exception cref="InvalidDataException">plan.json is missing or damaged (a damaged run is in its cell's <see cref="CellResult.Damaged"/>).</exception>
    public static StudyResults Read(string directory, double? targetAccuracy = null)
    {
        var index = PlanFile.Read(directory);
        double target = targetAccuracy ?? index.TargetAccuracy;
        var cells = new List<CellResult>();
        foreach (var cell in index.Cells)
        {
            var runs = new List<RunResult>();
            var failures = new List<(int, string)>();
            var missing = new List<int>();
            var damaged = new List<(int, string)>();
            foreach (var seed in cell.Seeds)
            {
                var runDirectory = Path.Combine(directory, cell.RunDirectory(seed));
                RunResult? run;
                try
                {
                    run = RunResult.Read(runDirectory, seed);
                }
                catch (InvalidDataException e)
                {
                    // One damaged run does not hide the others' results; it is named, not counted as not run.
                    damaged.Add((seed, e.Message));
                    continue;
                }

                if (run is not null)
                {
                    runs.Add(run);
                }
                else if (RunState.ReadFailure(runDirectory) is { } error)
                {
                    failures.Add((seed, error));
                }
                else
                {
                    missing.Add(seed);
                }
            }

            cells.Add(new CellResult(cell, runs, failures, missing, target) { Damaged = damaged });
        }

        return Build(index with { TargetAccuracy = target }, cells);
    }

    /// <summary>Builds the tuning choices and tables from cell results.</summary>
    public static StudyResults Build(StudyIndex index, IReadOnlyList<CellResult> cells)
    {
        var tuning = new List<TuningChoice>();
        var selected = cells;
        if (index.TuneKey is not null)
        {
            var chosen = new HashSet<CellResult>();
            foreach (var group in cells.GroupBy(c => (Scenario(c.Cell.Scenario), c.Cell.Rule)))
            {
                var attacks = group.Select(c => c.Cell.Attack).Distinct().ToArray();
                var candidates = group.GroupBy(c => c.Cell.TuneValue ?? "")
                    .Select(g =>
                    {
                        var (worst, _, missing) = WorstCase(attacks.Select(a => g.FirstOrDefault(c => c.Cell.Attack == a)).ToArray(), attacks);
                        return (Value: g.Key, WorstCase: worst, MissingAttacks: missing);
                    })
                    .ToArray();
                var best = Choose(candidates);
                tuning.Add(new TuningChoice(group.First().Cell.Scenario, group.Key.Rule, candidates, best));
                foreach (var cell in group.Where(c => (c.Cell.TuneValue ?? "") == best))
                {
                    chosen.Add(cell);
                }
            }

            selected = cells.Where(chosen.Contains).ToArray();
        }

        var tables = new List<RuleAttackTable>();
        foreach (var group in selected.GroupBy(c => Scenario(c.Cell.Scenario)))
        {
            var attacks = group.Select(c => c.Cell.Attack).Distinct().ToArray();
            var rows = new List<TableRow>();
            foreach (var rule in group.Select(c => c.Cell.Rule).Distinct())
            {
                var row = attacks.Select(a => group.FirstOrDefault(c => c.Cell.Rule == rule && c.Cell.Attack == a)).ToArray();
                var (worst, worstAttack, missing) = WorstCase(row, attacks);
                rows.Add(new TableRow(rule, row.FirstOrDefault(c => c is not null)?.Cell.TuneValue, row, worst, worstAttack, missing));
            }

            tables.Add(new RuleAttackTable(group.First().Cell.Scenario, attacks, rows));
        }

        return new StudyResults(index, cells, tables, tuning) { Selected = selected };
    }

    /// <summary>
    /// The candidate whose worst case is highest; a candidate with attacks missing ranks below every complete one, and
    /// ties go to the first listed.
    /// </summary>
    public static string Choose(IReadOnlyList<(string Value, double? WorstCase, int MissingAttacks)> candidates)
    {
        var best = candidates[0];
        foreach (var candidate in candidates.Skip(1))
        {
            if (Better(candidate, best))
            {
                best = candidate;
            }
        }

        return best.Value;

        static bool Better((string Value, double? WorstCase, int MissingAttacks) a, (string Value, double? WorstCase, int MissingAttacks) b)
        {
            bool aComplete = a.MissingAttacks == 0 && a.WorstCase is not null;
            bool bComplete = b.MissingAttacks == 0 && b.WorstCase is not null;
            if (aComplete != bComplete)
            {
                return aComplete;
            }

            return (a.WorstCase ?? double.NegativeInfinity) > (b.WorstCase ?? double.NegativeInfinity);
        }
    }

    /// <summary>The lowest mean final accuracy of <paramref name="row"/> (one cell per attack), its attack, and how many attacks have no value.</summary>
    public static (double? Worst, string? Attack, int Missing) WorstCase(IReadOnlyList<CellResult?> row, IReadOnlyList<string> attacks)
    {
        double? worst = null;
        string? attack = null;
        int missing = 0;
        for (int i = 0; i < row.Count; i++)
        {
            if (row[i]?.FinalAccuracy.Mean is { } mean)
            {
                if (worst is null || mean < worst)
                {
                    worst = mean;
                    attack = attacks[i];
                }
            }
            else
            {
                missing++;
            }
        }

        return (worst, attack, missing);
    }

    /// <summary>
    /// For a heatmap: the worst mean final accuracy of each rule at each value of <paramref name="key"/>, over every
    /// other key (attacks and scenarios) among the selected cells. Null when the key does not vary.
    /// </summary>
    public (IReadOnlyList<string> Rules, IReadOnlyList<string> Values, double?[,] Worst)? WorstCaseBy(string key)
    {
        if (!Index.VaryingKeys.Contains(key))
        {
            return null;
        }

        var rules = Selected.Select(c => c.Cell.Rule).Distinct().ToArray();
        var values = Selected.Select(c => c.Cell.Keys[key]).Distinct().ToArray();
        var worst = new double?[rules.Length, values.Length];
        foreach (var cell in Selected)
        {
            if (cell.FinalAccuracy.Mean is not { } mean)
            {
                continue;
            }

            int r = Array.IndexOf(rules, cell.Cell.Rule);
            int v = Array.IndexOf(values, cell.Cell.Keys[key]);
            if (worst[r, v] is null || mean < worst[r, v])
            {
                worst[r, v] = mean;
            }
        }

        return (rules, values, worst);
    }

    private static string Scenario(IReadOnlyDictionary<string, string> scenario) => string.Join("\n", scenario.Select(p => p.Key + "=" + p.Value));
}

using Dstar.Studies.Definition;

namespace Dstar.Studies.Tests.Definition;

public class StudyLoaderTests
{
    private const string Base = """
        base:
          rounds: 20
          data: {name: synthetic-logistic, samples: 400, features: 5, validation_size: 100}
          model: logreg
          workers: 10
          k: 8
        """;

    private static Study Load(string yaml) => StudyLoader.Load(yaml, "test", Path.GetTempPath());

    private static IReadOnlyList<string> Problems(string yaml)
    {
        var e = Assert.Throws<StudyException>(() => StudyPlan.Expand(Load(yaml)));
        return e.Errors.Select(x => x.ToString()).ToArray();
    }

    [Fact]
    public void Unknown_top_level_key_is_refused_with_one_line_naming_it()
    {
        var problems = Problems(Base + "\ngrid: {aggregator: [mean]}\nseeds: [1]\nrepeats: 3\n");
        var line = Assert.Single(problems);
        Assert.StartsWith("repeats = '3': unknown key", line);
    }

    [Fact]
    public void Unknown_config_key_in_the_grid_is_refused()
    {
        var line = Assert.Single(Problems(Base + "\ngrid: {aggregatr: [mean, median]}\n"));
        Assert.StartsWith("grid.aggregatr = '[mean, median]': unknown config key", line);
    }

    [Theory]
    [InlineData("../../etc")]
    [InlineData("a/b")]
    [InlineData("'a\\\\b'")]
    public void A_name_that_is_a_path_is_refused(string name)
    {
        var line = Assert.Single(Problems(Base + "\ngrid: {aggregator: [mean]}\nname: " + name + "\n"));
        Assert.Matches("^name = '.+': must not contain '/' or '\\\\': it names the folder runs/sweep-NAME$", line);
    }

    [Fact]
    public void Empty_grid_is_refused()
    {
        Assert.Contains("empty grid", Assert.Single(Problems(Base + "\ngrid: {}\n")));
        Assert.Contains("empty grid", Assert.Single(Problems(Base + "\nseeds: [1]\n")));
        Assert.StartsWith("grid.aggregator = '[]': empty list", Assert.Single(Problems(Base + "\ngrid: {aggregator: []}\n")));
    }

    [Fact]
    public void List_where_a_scalar_is_needed_is_refused()
    {
        var problems = Problems("""
            base:
              rounds: [10, 20]
            grid:
              aggregator: [mean, [median, dstar]]
            """);
        Assert.Equal(2, problems.Count);
        Assert.StartsWith("base.rounds = '[10, 20]': a list where one value is needed", problems[0]);
        Assert.StartsWith("grid.aggregator[1] = '[median, dstar]': a list where one value is needed", problems[1]);
    }

    [Fact]
    public void Grid_value_that_is_not_a_list_is_refused()
    {
        Assert.StartsWith("grid.aggregator = 'mean': needs a list of values", Assert.Single(Problems(Base + "\ngrid: {aggregator: mean}\n")));
    }

    [Fact]
    public void Seed_that_is_not_an_integer_is_refused()
    {
        var problems = Problems(Base + "\ngrid: {aggregator: [mean]}\nseeds: [1, 2.5, x]\n");
        Assert.Equal(["seeds[1] = '2.5': not an integer: seeds are whole numbers, e.g. seeds: [1, 2, 3]", "seeds[2] = 'x': not an integer: seeds are whole numbers, e.g. seeds: [1, 2, 3]"], problems);
    }

    [Fact]
    public void All_problems_are_reported_at_once()
    {
        var problems = Problems("base: {rounds: [1, 2]}\ngrid: {}\nseeds: [a]\nextra: 1\n");
        Assert.Equal(4, problems.Count);
    }

    [Fact]
    public void A_cell_whose_experiment_is_invalid_is_refused_once_naming_the_first_cell()
    {
        var problems = Problems(Base + "\ngrid:\n  aggregator: [\"krum f=5\"]\n  lr: [0.1, 0.2]\n  attack: [sign-flip]\n  byzantine: [2]\n");
        var line = Assert.Single(problems);
        Assert.StartsWith("cell aggregator-krum-f-5_lr-0.1_attack-sign-flip_byzantine-2: aggregator = 'krum f=5'", line);
        Assert.EndsWith("(and 1 more cell)", line);
    }

    [Fact]
    public void Grid_expands_to_the_cartesian_product_in_file_order()
    {
        var plan = StudyPlan.Expand(Load(Base + "\ngrid:\n  aggregator: [mean, median, dstar]\n  lr: [0.1, 0.05]\nseeds: [1, 2]\n"));
        Assert.Equal(6, plan.Cells.Count);
        Assert.Equal(12, plan.Runs.Count());
        Assert.Equal(["aggregator", "lr"], plan.VaryingKeys);
        Assert.Equal("aggregator-mean_lr-0.1", plan.Cells[0].Name);
        Assert.Equal("aggregator-mean_lr-0.05", plan.Cells[1].Name);
        Assert.Equal("aggregator-dstar_lr-0.05", plan.Cells[5].Name);
        Assert.Equal(0.05, plan.Cells[5].Config.LearningRate);
        Assert.Equal("dstar", plan.Cells[5].Config.Aggregator);
        Assert.Equal(20, plan.Cells[5].Config.Rounds);
        Assert.Equal(Path.Combine("cells", "aggregator-dstar_lr-0.05", "seed-2"), plan.Runs.Last().RelativeDirectory);
        Assert.Equal(2, plan.Runs.Last().Config.Seed);
    }

    [Fact]
    public void Cases_are_crossed_with_the_grid_and_pair_keys_without_multiplying_them()
    {
        var plan = StudyPlan.Expand(Load(Base + """

            grid:
              aggregator: [median, dstar]
            cases:
              - {byzantine: 0, attack: none}
              - {byzantine: 2, attack: sign-flip}
              - {byzantine: 2, attack: "ipm epsilon=0.1"}
            seeds: [7]
            """));
        Assert.Equal(6, plan.Cells.Count);
        Assert.Equal(["aggregator", "byzantine", "attack"], plan.VaryingKeys);
        Assert.Equal(["none (f=0)", "none (f=0)", "sign-flip (f=2)", "sign-flip (f=2)", "ipm epsilon=0.1 (f=2)", "ipm epsilon=0.1 (f=2)"], plan.Cells.Select(c => c.Attack));
        Assert.All(plan.Cells, c => Assert.Empty(c.Scenario));
        Assert.Equal("aggregator-dstar_byzantine-2_attack-ipm-epsilon-0.1", plan.Cells[5].Name);
        Assert.Null(plan.Cells[0].Config.Attack);
        Assert.Equal(7, Assert.Single(plan.Cells[0].Seeds));
    }

    [Fact]
    public void Keys_set_beside_the_rule_or_the_attack_belong_to_them_not_to_the_scenario()
    {
        // As in the dSTAR+ studies: worker momentum goes with one rule variant, and the clean run has its own workers
        // and k. Neither may split the tables; the variant's name shows its momentum, the others' do not.
        var plan = StudyPlan.Expand(Load(Base + """

            grid:
              data.partition: [iid, "gamma-similarity gamma=0.33"]
            cases:
              rules:
                - {aggregator: mean}
                - {aggregator: dstar}
                - {aggregator: dstar, worker_momentum: 0.9}
              attacks:
                - {workers: 6, k: 6, byzantine: 0, attack: none}
                - {workers: 8, k: 8, byzantine: 2, attack: sign-flip}
            """));
        Assert.Equal(12, plan.Cells.Count);
        Assert.All(plan.Cells, c => Assert.Equal(["data.partition"], c.Scenario.Keys));
        Assert.Equal(["mean", "dstar", "dstar (worker_momentum=0.9)"], plan.Cells.Select(c => c.Rule).Distinct());
        Assert.Equal(["none (f=0)", "sign-flip (f=2)"], plan.Cells.Select(c => c.Attack).Distinct());
        Assert.Equal(0.9, plan.Cells.Single(c => c.Rule.EndsWith("0.9)") && c.Attack == "none (f=0)" && c.Keys["data.partition"] == "iid").Config.WorkerMomentum);
    }

    [Fact]
    public void Tune_adds_its_key_as_a_dimension_outside_the_scenario()
    {
        var plan = StudyPlan.Expand(Load(Base + "\ngrid:\n  aggregator: [mean]\n  data.partition: [iid, \"dirichlet alpha=0.5\"]\ntune: {lr: [0.01, 0.1]}\n"));
        Assert.Equal(4, plan.Cells.Count);
        Assert.Equal(["0.01", "0.01", "0.1", "0.1"], plan.Cells.Select(c => c.TuneValue));
        Assert.All(plan.Cells, c => Assert.Equal(["data.partition"], c.Scenario.Keys));
    }

    [Fact]
    public void Pre_aggregator_lists_are_grid_values_and_part_of_the_rule()
    {
        var plan = StudyPlan.Expand(Load(Base + "\n  aggregator: median\ngrid:\n  pre: [[], [\"bucketing size=2\"], [nnm]]\n"));
        Assert.Equal(["median", "bucketing size=2 + median", "nnm + median"], plan.Cells.Select(c => c.Rule));
        Assert.Equal("pre-none", plan.Cells[0].Name);
    }

    [Fact]
    public void Named_groups_of_cases_are_crossed_with_each_other()
    {
        var plan = StudyPlan.Expand(Load(Base + """

            grid:
              data.partition: [iid, "dirichlet alpha=0.5"]
            cases:
              rules:
                - {aggregator: median}
                - {aggregator: centered-clipping, pre: ["bucketing size=2"]}
              attacks:
                - {byzantine: 0, attack: none}
                - {byzantine: 2, attack: sign-flip}
                - {byzantine: 2, attack: alie}
            """));
        Assert.Equal(12, plan.Cells.Count);
        Assert.Equal(["data.partition", "aggregator", "byzantine", "attack", "pre"], plan.VaryingKeys);
        Assert.Equal(["median", "bucketing size=2 + centered-clipping"], plan.Cells.Select(c => c.Rule).Distinct());
        Assert.Equal(3, plan.Cells.Select(c => c.Attack).Distinct().Count());
        Assert.Equal("data.partition-iid_aggregator-median_byzantine-0_attack-none", plan.Cells[0].Name);
    }

    [Fact]
    public void A_key_in_two_groups_of_cases_is_refused()
    {
        var line = Assert.Single(Problems(Base + "\ncases:\n  a: [{attack: alie, byzantine: 1}]\n  b: [{attack: sign-flip}]\n"));
        Assert.StartsWith("cases.b = 'attack': is also set by cases.a", line);
    }

    [Fact]
    public void A_key_in_both_grid_and_cases_is_refused()
    {
        var line = Assert.Single(Problems(Base + "\ngrid: {attack: [sign-flip]}\ncases: [{attack: alie, byzantine: 1}]\n"));
        Assert.StartsWith("cases: attack: is also a grid key", line);
    }

    [Fact]
    public void Base_config_is_read_relative_to_the_study_and_base_overrides_it()
    {
        var folder = Path.Combine(Path.GetTempPath(), "dstar-study-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "exp.yaml"), "seed: 9\nrounds: 50\nmodel: logreg\ndata: {name: synthetic-logistic}\nlr: 0.3\n");
            File.WriteAllText(Path.Combine(folder, "s.yaml"), "base_config: exp.yaml\nbase: {rounds: 5}\ngrid: {aggregator: [mean]}\n");
            var plan = StudyPlan.Expand(StudyLoader.LoadFile(Path.Combine(folder, "s.yaml")));
            var config = plan.Runs.Single().Config;
            Assert.Equal((5, 0.3, 1), (config.Rounds, config.LearningRate, config.Seed));
            Assert.Equal("s", plan.Study.Name);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Resilience_block_is_read_with_its_defaults_and_kept_in_the_plan()
    {
        var study = Load(Base + "\ngrid: {aggregator: [mean]}\nresilience: {draws: 12, at: [init, final]}\n");
        Assert.Equal((12, 0.95), (study.Resilience!.Draws, study.Resilience.Confidence));
        Assert.Equal(["init", "final"], study.Resilience.At);
        var defaults = Load(Base + "\ngrid: {aggregator: [mean]}\nresilience: {}\n").Resilience!;
        Assert.Equal((20, 0.95), (defaults.Draws, defaults.Confidence));
        Assert.Equal(["final"], defaults.At);
        Assert.Null(Load(Base + "\ngrid: {aggregator: [mean]}\n").Resilience);

        var folder = Path.Combine(Path.GetTempPath(), "dstar-plan-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            PlanFile.Write(StudyPlan.Expand(study), folder);
            var read = PlanFile.Read(folder).Resilience!;
            Assert.Equal((12, 0.95), (read.Draws, read.Confidence));
            Assert.Equal(["init", "final"], read.At);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Bad_resilience_settings_are_refused_one_line_each()
    {
        var problems = Problems(Base + "\ngrid: {aggregator: [mean]}\nresilience: {draws: 1, at: [init, trained, init], confidence: 1.5, rounds: 3}\n");
        Assert.Equal(
        [
            "resilience.draws = '1': needs an integer from 2 to 10000: the independent rounds drawn at each point, e.g. 20",
            "resilience.at[1] = 'trained': unknown point: use init (the initial parameters) or final (the run's last checkpoint)",
            "resilience.at[2] = 'init': repeated: each point once",
            "resilience.confidence = '1.5': needs a number in (0, 1), e.g. 0.95",
            "resilience.rounds = '3': unknown key (valid: draws, at, confidence)",
        ], problems);
        Assert.StartsWith("resilience = '20': needs a mapping", Assert.Single(Problems(Base + "\ngrid: {aggregator: [mean]}\nresilience: 20\n")));
        Assert.StartsWith("resilience.at = 'final': needs a non-empty list", Assert.Single(Problems(Base + "\ngrid: {aggregator: [mean]}\nresilience: {at: final}\n")));
    }
}

using Dstar.Cli.Failures;
using Dstar.Studies.Definition;
using Xunit;

namespace Dstar.Cli.Tests.Commands;

/// <summary>
/// <c>dstar sweep</c> and <c>dstar report</c> use the exit codes of every command (docs/commands.md): 2 for a bad option
/// or study, 3 for a file that is missing or damaged, and a report of damaged runs names each file.
/// </summary>
public class StudyCommandExitCodeTests
{
    private const string Study = "base: {rounds: 2, data: {name: synthetic-logistic, samples: 400, validation_size: 100}, workers: 6, k: 4}\ngrid: {aggregator: [mean, median]}\n";

    private const string Summary = "{\"name\": \"run\", \"final_accuracy\": 0.5, \"best_accuracy\": 0.5, \"rounds\": 2, \"virtual_seconds\": 4}\n";

    // A finished study's directory: plan.json and a whole summary.json for every run.
    private static StudyIndex Finished(CliRun run, string output)
    {
        File.WriteAllText(run.PathOf("s.yaml"), Study);
        Directory.CreateDirectory(output);
        PlanFile.Write(StudyPlan.Expand(StudyLoader.LoadFile(run.PathOf("s.yaml"))), output);
        var index = PlanFile.Read(output);
        foreach (var cell in index.Cells)
        {
            foreach (var seed in cell.Seeds)
            {
                Directory.CreateDirectory(Path.Combine(output, cell.RunDirectory(seed)));
                File.WriteAllText(Path.Combine(output, cell.RunDirectory(seed), "summary.json"), Summary);
            }
        }

        return index;
    }

    [Fact]
    public void Report_names_a_damaged_summary_writes_the_rest_and_exits_with_the_data_code()
    {
        using var run = new CliRun();
        var output = run.PathOf("out");
        var index = Finished(run, output);
        var mean = index.Cells.Single(c => c.Rule == "mean");
        var summary = Path.Combine(output, mean.RunDirectory(mean.Seeds[0]), "summary.json");
        File.WriteAllText(summary, Summary[..30]); // truncated

        var whole = CliRun.Invoke("report", output);
        Assert.Equal(ExitCodes.Data, whole.Exit);
        var lines = whole.Error.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"dstar report: damaged run {mean.Name}, seed {mean.Seeds[0]}, left out: {summary}: damaged: not valid JSON (", lines[0]);
        Assert.Equal("dstar report: 1 run left out of the report as damaged; move its run directory aside and run dstar sweep again to redo it", lines[1]);
        Assert.Contains("1 finished, 0 failed, 1 damaged (left out: a run file is not valid), 0 not run", whole.Output);
        Assert.Contains(summary, File.ReadAllText(Path.Combine(output, "report", "report.md")));
        Assert.True(File.Exists(Path.Combine(output, "report", "report.html")));

        // Once the run is whole again, the report is clean.
        File.WriteAllText(summary, Summary);
        var clean = CliRun.Invoke("report", output);
        Assert.Equal(ExitCodes.Ok, clean.Exit);
        Assert.Equal("", clean.Error);
        Assert.Contains("2 finished, 0 failed, 0 not run", clean.Output);
    }

    [Fact]
    public void Report_refuses_a_bad_target_as_usage_and_a_missing_plan_as_data()
    {
        using var run = new CliRun();
        var bad = CliRun.Invoke("report", run.Directory, "--target-accuracy", "5");
        Assert.Equal(ExitCodes.Usage, bad.Exit);
        Assert.Equal("dstar report: --target-accuracy = 5: must be in (0, 1]", bad.Error.Trim());

        var missing = CliRun.Invoke("report", run.PathOf("none"));
        Assert.Equal(ExitCodes.Data, missing.Exit);
        Assert.Equal($"dstar report: {Path.Combine(run.PathOf("none"), "plan.json")} is missing: is '{run.PathOf("none")}' the --out directory of a dstar sweep?", missing.Error.Trim());

        File.WriteAllText(Path.Combine(run.Directory, "plan.json"), "{not json");
        var damaged = CliRun.Invoke("report", run.Directory);
        Assert.Equal(ExitCodes.Data, damaged.Exit);
        Assert.StartsWith($"dstar report: {Path.Combine(run.Directory, "plan.json")}: not a study plan", damaged.Error.Trim());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("1000000")]
    public void Sweep_parallel_outside_one_to_four_per_core_is_refused_naming_the_range(string parallel)
    {
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("s.yaml"), Study);
        var result = CliRun.Invoke("sweep", run.PathOf("s.yaml"), "--out", run.PathOf("out"), "--parallel", parallel, "--no-report");
        Assert.Equal(ExitCodes.Usage, result.Exit);
        int limit = 4 * Environment.ProcessorCount;
        Assert.Equal($"dstar sweep: --parallel must be in 1..{limit} (4 per core; this machine has {Environment.ProcessorCount}), got {parallel}", result.Error.Trim());
        Assert.False(Directory.Exists(run.PathOf("out")));
    }

    [Fact]
    public void Sweep_refuses_an_invalid_study_as_usage_and_a_missing_one_as_data()
    {
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("s.yaml"), Study + "aggregatr: mean\n");
        var invalid = CliRun.Invoke("sweep", run.PathOf("s.yaml"), "--out", run.PathOf("out"), "--no-report");
        Assert.Equal(ExitCodes.Usage, invalid.Exit);
        Assert.StartsWith($"dstar sweep: invalid study {run.PathOf("s.yaml")} (1 problem):", invalid.Error);

        var missing = CliRun.Invoke("sweep", run.PathOf("none.yaml"), "--out", run.PathOf("out"), "--no-report");
        Assert.Equal(ExitCodes.Data, missing.Exit);
        Assert.Equal($"dstar sweep: {run.PathOf("none.yaml")}: cannot read the file: no such file", missing.Error.Trim());
        Assert.False(Directory.Exists(run.PathOf("out")));
    }

    [Fact]
    public void Sweep_refuses_a_view_address_it_may_not_serve_as_usage()
    {
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("s.yaml"), Study);
        var result = CliRun.Invoke("sweep", run.PathOf("s.yaml"), "--out", run.PathOf("out"), "--view-token", "t");
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.StartsWith("dstar sweep: ", result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.False(Directory.Exists(run.PathOf("out")));
    }
}

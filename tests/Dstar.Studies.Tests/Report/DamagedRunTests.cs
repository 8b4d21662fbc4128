using System.Text.Json;
using Dstar.Studies.Definition;
using Dstar.Studies.Report;

namespace Dstar.Studies.Tests.Report;

/// <summary>
/// A run whose summary.json or metrics.jsonl is damaged is reported as damaged, naming the file, and left out of the
/// numbers; it is not counted as a run that never ran, and the other runs are still reported.
/// </summary>
public sealed class DamagedRunTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dstar-damaged-run-" + Guid.NewGuid().ToString("N"));

    private const string Study = """
        base: {rounds: 2, data: {name: synthetic-logistic, samples: 400, validation_size: 100}, workers: 6, k: 4}
        grid: {aggregator: [mean, median]}
        seeds: [1, 2]
        """;

    private const string Summary = "{\"name\": \"run\", \"final_accuracy\": 0.5, \"best_accuracy\": 0.5, \"rounds\": 2, \"virtual_seconds\": 4}\n";

    // A study directory as a sweep leaves it: plan.json and a whole summary.json for every run.
    private StudyIndex Finished()
    {
        var plan = StudyPlan.Expand(StudyLoader.Load(Study, "damaged", _directory));
        Directory.CreateDirectory(_directory);
        PlanFile.Write(plan, _directory);
        var index = PlanFile.Read(_directory);
        foreach (var cell in index.Cells)
        {
            foreach (var seed in cell.Seeds)
            {
                var run = Path.Combine(_directory, cell.RunDirectory(seed));
                Directory.CreateDirectory(run);
                File.WriteAllText(Path.Combine(run, "summary.json"), Summary);
            }
        }

        return index;
    }

    [Fact]
    public void A_damaged_resilience_json_is_named_in_the_table_not_called_not_estimated()
    {
        var index = Finished();
        var mean = index.Cells.Single(c => c.Rule == "mean");
        var run = Path.Combine(_directory, mean.RunDirectory(1));
        var path = Path.Combine(run, StudyResilience.FileName);
        File.WriteAllText(path, "{\"results\": [{\"point\": ");

        var read = RunResult.Read(run, 1)!;
        var fine = RunResult.Read(Path.Combine(_directory, mean.RunDirectory(2)), 2)!;

        Assert.Null(read.Resilience);
        Assert.StartsWith($"{path}: damaged: ", read.ResilienceProblem);
        Assert.Null(fine.ResilienceProblem); // no resilience.json at all is not a problem
        var cell = StudyResults.Read(_directory).Cells.Single(c => c.Cell.Rule == "mean");
        var rows = ResilienceSection.Cells([new ResilienceRow(cell, 1, "final", null, read.ResilienceProblem), new ResilienceRow(cell, 2, "final", null)]);
        Assert.Equal($"not read ({read.ResilienceProblem})", rows[0][3]);
        Assert.Equal("not estimated (no resilience.json)", rows[1][3]);
    }

    [Theory]
    [InlineData("summary.json", "{\"name\": \"run\", \"final_acc", "damaged: not valid JSON")]
    [InlineData("summary.json", "[1, 2]\n", "damaged: not a run summary")]
    [InlineData("metrics.jsonl", "{\"round\": 0, \"virt\n", "line 1: not a metrics row")]
    public void A_damaged_run_file_is_named_and_left_out_not_counted_as_not_run(string file, string contents, string problem)
    {
        var index = Finished();
        var mean = index.Cells.Single(c => c.Rule == "mean");
        var path = Path.Combine(_directory, mean.RunDirectory(2), file);
        File.WriteAllText(path, contents);

        var results = StudyResults.Read(_directory);

        var cell = results.Cells.Single(c => c.Cell.Rule == "mean");
        var (seed, what) = Assert.Single(cell.Damaged);
        Assert.Equal(2, seed);
        Assert.StartsWith(path, what);
        Assert.Contains(problem, what);
        Assert.Empty(cell.Missing);
        Assert.Empty(cell.Failures);
        Assert.Equal([1], cell.Runs.Select(r => r.Seed));
        Assert.All(results.Cells.Where(c => c.Cell.Rule != "mean"), c => Assert.Equal(2, c.Runs.Count));

        // Every output of the report says so: the paragraph, the list naming the file, report.json and cells.csv.
        Assert.Contains("3 finished, 0 failed, 1 damaged (left out: a run file is not valid), 0 not run", ReportFiles.Describe(results));
        Assert.Equal([$"damaged run {mean.Name}, seed 2, left out: {what}"], ReportFiles.DamagedRuns(results));
        Assert.Contains(path, ReportFiles.Markdown(results, []));
        using var json = JsonDocument.Parse(ReportFiles.Json(results));
        var entry = json.RootElement.GetProperty("cells").EnumerateArray().Single(c => c.GetProperty("rule").GetString() == "mean");
        Assert.Equal(1, entry.GetProperty("runs_damaged").GetInt32());
        Assert.Equal(0, entry.GetProperty("runs_missing").GetInt32());
        Assert.Equal(what, entry.GetProperty("damaged")[0].GetProperty("problem").GetString());
        var csv = ReportFiles.CellsCsv(results).Split('\n');
        int column = Array.IndexOf(csv[0].Split(','), "runs_damaged");
        Assert.Equal("1", csv.Single(line => line.StartsWith(mean.Name + ",", StringComparison.Ordinal)).Split(',')[column]);
    }

    [Fact]
    public void A_run_without_summary_json_is_still_not_run_and_not_damaged()
    {
        var index = Finished();
        var mean = index.Cells.Single(c => c.Rule == "mean");
        File.Delete(Path.Combine(_directory, mean.RunDirectory(2), "summary.json"));

        var cell = StudyResults.Read(_directory).Cells.Single(c => c.Cell.Rule == "mean");
        Assert.Empty(cell.Damaged);
        Assert.Equal([2], cell.Missing);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

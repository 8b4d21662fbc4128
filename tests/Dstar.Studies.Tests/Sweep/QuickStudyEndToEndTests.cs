using System.Diagnostics;
using System.Text.Json;
using Dstar.Studies.Definition;

namespace Dstar.Studies.Tests.Sweep;

/// <summary>
/// experiments/studies/quick.yaml through real dstar processes: a worker killed mid-run, the sweep killed with SIGKILL
/// mid-way, a second sweep that finishes it, the same study with one worker process, and the report.
/// </summary>
public sealed class QuickStudyEndToEndTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10); // generous: a loaded 2-core machine runs the 16 runs one by one in minutes
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dstar-studies-e2e-" + Guid.NewGuid().ToString("N"));

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task Quick_study_survives_kills_gives_the_same_cells_with_one_or_two_workers_and_reports_the_runs_numbers()
    {
        var study = RepositoryFile("experiments", "studies", "quick.yaml");
        var two = Path.Combine(_root, "two");
        var one = Path.Combine(_root, "one");
        var plan = StudyPlan.Expand(StudyLoader.LoadFile(study));
        int runs = plan.Runs.Count();

        var workers = new List<int>();
        using (var sweep = DstarProcess.Start("sweep", study, "--out", two, "--parallel", "2", "--no-report"))
        {
            // A worker process dies in the middle of a run: that run alone fails, and a new process takes over.
            int victim = int.Parse(sweep.WaitForLine(@"worker process (\d+) ready", Patience).Groups[1].Value);
            // Killed at once: a quick cell takes a fraction of a second on a quiet machine, and the sweep treats a
            // process that dies before or while it takes its assignment alike.
            workers.Add(victim);
            Process.GetProcessById(victim).Kill();
            Assert.Contains($"the worker process {victim} exited", sweep.WaitForLine("^FAILED .*", Patience).Value + "\n" + sweep.Output);

            // Then the sweep itself is killed (SIGKILL) part-way; its worker processes leave on their own.
            sweep.WaitForLine(@"^[3-9]/\d+ done", Patience);
            workers.AddRange(System.Text.RegularExpressions.Regex.Matches(sweep.Output, @"worker process (\d+) ready").Select(m => int.Parse(m.Groups[1].Value)));
            sweep.KillParentOnly();
        }

        foreach (var pid in workers.Distinct())
        {
            Assert.True(Exited(pid, TimeSpan.FromSeconds(30)), $"worker process {pid} outlived its sweep");
        }

        var finishedBefore = plan.Runs.Count(r => File.Exists(Path.Combine(two, r.RelativeDirectory, "summary.json")));
        Assert.InRange(finishedBefore, 2, runs - 1);

        var (exit, output) = await DstarProcess.RunAsync(Patience, "sweep", study, "--out", two, "--parallel", "2");
        Assert.True(exit == 0, output);
        Assert.Contains($"{finishedBefore} already finished", output);
        Assert.Contains("report: ", output);

        (exit, output) = await DstarProcess.RunAsync(Patience, "sweep", study, "--out", one, "--parallel", "1", "--no-report");
        Assert.True(exit == 0, output);

        foreach (var run in plan.Runs)
        {
            Assert.Equal(Metrics(Path.Combine(one, run.RelativeDirectory)), Metrics(Path.Combine(two, run.RelativeDirectory)));
            Assert.Equal(Summary(Path.Combine(one, run.RelativeDirectory)), Summary(Path.Combine(two, run.RelativeDirectory)));
        }

        (exit, output) = await DstarProcess.RunAsync(Patience, "report", one);
        Assert.True(exit == 0, output);
        CheckReportAgainstRuns(two);
        CheckReportAgainstRuns(one);
        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(Path.Combine(one, "report", "report.html")));
        Assert.Contains("data:image/png;base64,", File.ReadAllText(Path.Combine(one, "report", "report.html")));
    }

    /// <summary>Every cell's mean and std in report.json equal a naive computation over its runs' summary.json values, and each table's worst case the lowest of its row.</summary>
    private static void CheckReportAgainstRuns(string directory)
    {
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "report", "report.json")));
        var cells = report.RootElement.GetProperty("cells").EnumerateArray().ToArray();
        Assert.NotEmpty(cells);
        var means = new Dictionary<(string Rule, string Attack, string Scenario), double>();
        foreach (var cell in cells)
        {
            var seeds = cell.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()).ToArray();
            Assert.Equal(seeds.Length, cell.GetProperty("runs_finished").GetInt32());
            foreach (var name in new[] { "final_accuracy", "best_accuracy", "filter_precision", "filter_recall", "byzantine_kept_fraction", "virtual_seconds" })
            {
                var values = new List<double>();
                foreach (var seed in seeds)
                {
                    using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "cells", cell.GetProperty("name").GetString()!, $"seed-{seed}", "summary.json")));
                    if (summary.RootElement.GetProperty(name).ValueKind == JsonValueKind.Number)
                    {
                        values.Add(summary.RootElement.GetProperty(name).GetDouble());
                    }
                }

                var mean = cell.GetProperty(name + "_mean");
                var std = cell.GetProperty(name + "_std");
                if (values.Count == 0)
                {
                    Assert.Equal(JsonValueKind.Null, mean.ValueKind);
                    continue;
                }

                double sum = 0;
                foreach (var v in values)
                {
                    sum += v;
                }

                double m = sum / values.Count, squares = 0;
                foreach (var v in values)
                {
                    squares += (v - m) * (v - m);
                }

                Assert.Equal(m, mean.GetDouble());
                Assert.Equal(values.Count > 1 ? Math.Sqrt(squares / (values.Count - 1)) : 0, std.GetDouble());
            }

            var scenario = cell.GetProperty("scenario").ToString();
            means[(cell.GetProperty("rule").GetString()!, cell.GetProperty("attack").GetString()!, scenario)] = cell.GetProperty("final_accuracy_mean").GetDouble();
        }

        foreach (var table in report.RootElement.GetProperty("tables").EnumerateArray())
        {
            var scenario = table.GetProperty("scenario").ToString();
            foreach (var row in table.GetProperty("rows").EnumerateArray())
            {
                var rule = row.GetProperty("rule").GetString()!;
                var worst = table.GetProperty("attacks").EnumerateArray().Min(a => means[(rule, a.GetString()!, scenario)]);
                Assert.Equal(worst, row.GetProperty("worst_case").GetDouble());
            }
        }
    }

    /// <summary>metrics.jsonl without the wall-clock column (the only one that is not deterministic).</summary>
    private static string Metrics(string directory) =>
        System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(Path.Combine(directory, "metrics.jsonl")), "\"wall_time\":[^,]*,", "");

    private static string Summary(string directory) =>
        System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(Path.Combine(directory, "summary.json")), "\"wall_seconds\": [^,]*,", "");

    private static bool Exited(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            // Gone, or a zombie waiting for a parent (in a container, pid 1 may never reap orphans).
            var stat = $"/proc/{pid}/stat";
            try
            {
                if (!File.Exists(stat) || File.ReadAllText(stat).Contains(") Z ", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (IOException)
            {
                return true;
            }

            Thread.Sleep(200);
        }

        return false;
    }

    private static string RepositoryFile(params string[] parts)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine([folder.FullName, .. parts]);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException(string.Join('/', parts));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }
}

namespace Dstar.Studies.Tests.Sweep;

/// <summary>A sweep over a run whose summary.json was damaged after it finished, through real dstar processes.</summary>
public sealed class DamagedSummaryTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dstar-damaged-summary-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_run_is_named_with_its_problem_and_run_again_to_the_same_numbers()
    {
        Directory.CreateDirectory(_root);
        var study = Path.Combine(_root, "s.yaml");
        File.WriteAllText(study, "base: {rounds: 2, data: {name: synthetic-logistic, samples: 400, validation_size: 100}, workers: 6, k: 4}\ngrid: {aggregator: [mean]}\n");
        var output = Path.Combine(_root, "out");
        var (exit, log) = await DstarProcess.RunAsync(Patience, "sweep", study, "--out", output, "--parallel", "1", "--no-report");
        Assert.True(exit == 0, log);
        var summary = Path.Combine(output, "cells", "aggregator-mean", "seed-1", "summary.json");
        var whole = File.ReadAllText(summary);
        File.WriteAllText(summary, "{\"rou");

        (exit, log) = await DstarProcess.RunAsync(Patience, "sweep", study, "--out", output, "--parallel", "1", "--no-report");

        Assert.True(exit == 0, log);
        Assert.Contains($"aggregator-mean/seed-1: {summary}: damaged: not valid JSON", log);
        Assert.Contains("it runs again", log);
        Assert.Contains("1 runs, 0 already finished", log);

        // Deterministic: the numbers of the first time (wall time aside).
        static string Numbers(string json) => string.Join("\n", json.Split('\n').Where(l => !l.Contains("wall_seconds", StringComparison.Ordinal)));
        Assert.Equal(Numbers(whole), Numbers(File.ReadAllText(summary)));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}

using Xunit;

namespace Dstar.Cli.Tests.Commands;

/// <summary>What a refused <c>dstar sweep</c> leaves in an output directory that holds an earlier study's runs.</summary>
public class SweepRefusalTests
{
    [Fact]
    public void A_changed_study_is_refused_and_the_directory_keeps_its_plan_and_runs()
    {
        using var run = new CliRun();
        var study = run.PathOf("s.yaml");
        File.WriteAllText(study, "base: {rounds: 2, data: {name: synthetic-logistic, samples: 400, validation_size: 100}, workers: 6, k: 4}\ngrid: {aggregator: [mean]}\n");
        var output = run.PathOf("out");
        var cell = Path.Combine(output, "cells", "aggregator-mean", "seed-1");
        Directory.CreateDirectory(cell);
        // The earlier study's plan and its run (of another config: rounds 3).
        File.WriteAllText(Path.Combine(output, "plan.json"), "{\"the\": \"earlier plan\"}\n");
        File.WriteAllText(Path.Combine(cell, "config.yaml"), "rounds: 3\n");
        var before = Directory.GetFiles(output, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

        var result = CliRun.Invoke("sweep", study, "--out", output, "--parallel", "1", "--no-report");

        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Data, result.Exit);
        Assert.Equal($"dstar sweep: {cell} hold a run of a different config (the study changed since): use another --out, or delete them", result.Error.Trim());
        // The lock file of the sweep (kept between sweeps) aside, every file is as it was.
        var after = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != Dstar.Studies.Sweep.StudySweep.LockFileName).ToDictionary(f => f, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (path, bytes) in before)
        {
            Assert.Equal(bytes, after[path]);
        }
    }
}

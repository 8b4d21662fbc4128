using System.Text.Json;
using System.Text.RegularExpressions;
using Dstar.Studies.Definition;

namespace Dstar.Studies.Tests.Sweep;

/// <summary>
/// A study with <c>resilience:</c> through real dstar processes: every run writes resilience.json, the report copies
/// its numbers unchanged, the plain mean without attack is unbiased within its interval, and a run whose
/// resilience.json is lost gets it back from the next sweep without running again.
/// </summary>
public sealed class ResilienceStudyEndToEndTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dstar-resilience-e2e-" + Guid.NewGuid().ToString("N"));

    private const string Study = """
        name: resilience-e2e
        base:
          rounds: 30
          eval_every: 10
          data: {name: synthetic-logistic, samples: 2000, features: 10, validation_size: 200}
          model: logreg
          workers: 8
          k: 8
          attack_timing: fast
          delay: shifted-exp
          lr: 0.1
          batch_size: 16
          threads: 1
        grid:
          aggregator: [mean, median]
        cases:
          - {byzantine: 0, attack: none}
          - {byzantine: 2, attack: sign-flip}
        seeds: [1, 2]
        resilience:
          draws: 12
          at: [init, final]
        """;

    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task Report_copies_each_runs_resilience_json_and_the_plain_mean_is_unbiased_within_its_interval()
    {
        Directory.CreateDirectory(_root);
        var study = Path.Combine(_root, "study.yaml");
        File.WriteAllText(study, Study);
        var output = Path.Combine(_root, "out");
        var plan = StudyPlan.Expand(StudyLoader.LoadFile(study));

        var (exit, text) = await DstarProcess.RunAsync(Patience, "sweep", study, "--out", output, "--parallel", "2");
        Assert.True(exit == 0, text);

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report", "report.json")));
        var resilience = report.RootElement.GetProperty("resilience");
        Assert.Equal(12, resilience.GetProperty("draws").GetInt32());
        var rows = resilience.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(plan.Runs.Count() * 2, rows.Length);
        foreach (var row in rows)
        {
            var cell = row.GetProperty("cell").GetString()!;
            int seed = row.GetProperty("seed").GetInt32();
            var point = row.GetProperty("point").GetString()!;
            using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "cells", cell, $"seed-{seed}", StudyResilience.FileName)));
            var entry = file.RootElement.GetProperty("results").EnumerateArray().Single(e => e.GetProperty("point").GetString() == point);
            AssertSameJson(entry, row.GetProperty("estimate"), $"{cell}/seed-{seed}/{point}");
        }

        // The plain mean with k = N and no attack is unbiased: E[G] = g, so the interval of ⟨E[G], g⟩/‖g‖² holds 1.
        var plain = rows.Where(r => r.GetProperty("rule").GetString() == "mean" && r.GetProperty("attack").GetString() == "none (f=0)").ToArray();
        Assert.Equal(4, plain.Length);
        foreach (var row in plain)
        {
            var ratio = row.GetProperty("estimate").GetProperty("ratio");
            Assert.InRange(1.0, ratio.GetProperty("low").GetDouble(), ratio.GetProperty("high").GetDouble());
            Assert.InRange(ratio.GetProperty("estimate").GetDouble(), 0.9, 1.1);
        }

        // The mean under sign-flip with f = 2 of n = k = 8 is pulled to (n − 2f)/n = 0.5, far from 1.
        foreach (var row in rows.Where(r => r.GetProperty("rule").GetString() == "mean" && r.GetProperty("attack").GetString() == "sign-flip (f=2)"))
        {
            var ratio = row.GetProperty("estimate").GetProperty("ratio");
            Assert.InRange(ratio.GetProperty("estimate").GetDouble(), 0.4, 0.6);
            Assert.True(ratio.GetProperty("high").GetDouble() < 1, row.ToString());
        }

        var markdown = File.ReadAllText(Path.Combine(output, "report", "report.md"));
        Assert.Contains("## Resilience at the final checkpoint (x_T)", markdown);
        Assert.Contains("## Resilience at initialisation (x₀)", markdown);
        Assert.Contains("resilience-001.png", markdown);
        Assert.True(File.Exists(Path.Combine(output, "report", "resilience-002.png")));
        Assert.Contains("Resilience at the final checkpoint", File.ReadAllText(Path.Combine(output, "report", "report.html")));

        // A lost resilience.json is estimated again by the next sweep, the run itself is not repeated, and the
        // numbers are the same (everything is seeded; only the wall seconds differ).
        var run = Path.Combine(output, plan.Runs.First().RelativeDirectory);
        var before = WithoutSeconds(File.ReadAllText(Path.Combine(run, StudyResilience.FileName)));
        var summary = File.ReadAllText(Path.Combine(run, "summary.json"));
        File.Delete(Path.Combine(run, StudyResilience.FileName));
        (exit, text) = await DstarProcess.RunAsync(Patience, "sweep", study, "--out", output, "--parallel", "1");
        Assert.True(exit == 0, text);
        Assert.Contains($"{plan.Runs.Count() - 1} already finished", text);
        Assert.Equal(before, WithoutSeconds(File.ReadAllText(Path.Combine(run, StudyResilience.FileName))));
        Assert.Equal(summary, File.ReadAllText(Path.Combine(run, "summary.json")));
    }

    private static string WithoutSeconds(string json) => Regex.Replace(json, "\"seconds\": [^,]*,", "");

    /// <summary>The same JSON value: equal numbers, strings, booleans and nulls, objects with the same properties (the wall seconds aside).</summary>
    private static void AssertSameJson(JsonElement expected, JsonElement actual, string where)
    {
        Assert.True(expected.ValueKind == actual.ValueKind, $"{where}: {expected.ValueKind} against {actual.ValueKind}");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var names = expected.EnumerateObject().Select(p => p.Name).ToArray();
                Assert.Equal(names, actual.EnumerateObject().Select(p => p.Name).ToArray());
                foreach (var name in names)
                {
                    AssertSameJson(expected.GetProperty(name), actual.GetProperty(name), $"{where}.{name}");
                }

                break;
            case JsonValueKind.Array:
                var a = expected.EnumerateArray().ToArray();
                var b = actual.EnumerateArray().ToArray();
                Assert.Equal(a.Length, b.Length);
                for (int i = 0; i < a.Length; i++)
                {
                    AssertSameJson(a[i], b[i], $"{where}[{i}]");
                }

                break;
            case JsonValueKind.Number:
                Assert.True(expected.GetDouble() == actual.GetDouble(), $"{where}: {expected.GetDouble():R} in resilience.json, {actual.GetDouble():R} in the report");
                break;
            case JsonValueKind.String:
                Assert.Equal(expected.GetString(), actual.GetString());
                break;
        }
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

using System.Text.Json;
using Xunit;

namespace Dstar.Cli.Tests;

/// <summary><c>dstar resilience</c> end to end on a small synthetic problem with known answers.</summary>
public class ResilienceCommandTests
{
    private static string[] Synthetic(params string[] more) =>
    [
        "resilience", "--set", "data.name=synthetic-linear", "--set", "data.samples=2000", "--set", "data.features=8",
        "--set", "data.validation_size=200", "--set", "model=linreg", "--set", "workers=10", "--set", "k=10",
        "--set", "attack_timing=honest", "--set", "batch_size=8", "--set", "seed=7", .. more,
    ];

    [Fact]
    public void Mean_under_sign_flip_reports_n_minus_2f_over_n_in_table_and_json()
    {
        using var run = new CliRun();
        var json = run.PathOf("resilience.json");
        var (exit, output, error) = CliRun.Invoke(Synthetic("--set", "aggregator=mean", "--set", "byzantine=2", "--set", "attack=sign-flip", "--rounds", "60", "--json", json));

        Assert.True(exit == 0, error);
        Assert.Contains("⟨E[G], g⟩ / ‖g‖²", output);
        Assert.Contains("implied α", output);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var result = document.RootElement.GetProperty("results")[0];
        var ratio = result.GetProperty("ratio");
        Assert.InRange(0.6, ratio.GetProperty("low").GetDouble(), ratio.GetProperty("high").GetDouble());
        Assert.True(result.GetProperty("holds").GetBoolean());
        Assert.Equal(3, result.GetProperty("moments").GetArrayLength());
    }

    [Fact]
    public void Mean_without_attack_holds_1_in_its_interval()
    {
        using var run = new CliRun();
        var json = run.PathOf("resilience.json");
        var (exit, _, error) = CliRun.Invoke(Synthetic("--set", "aggregator=mean", "--set", "byzantine=0", "--rounds", "60", "--json", json));

        Assert.True(exit == 0, error);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var ratio = document.RootElement.GetProperty("results")[0].GetProperty("ratio");
        Assert.InRange(1.0, ratio.GetProperty("low").GetDouble(), ratio.GetProperty("high").GetDouble());
    }

    [Theory]
    [InlineData("--rounds", "1", "--rounds must be in 2..10000, got 1", 2)]
    [InlineData("--rounds", "99999999", "--rounds must be in 2..10000, got 99999999", 2)]
    [InlineData("--bootstrap", "5", "--bootstrap must be in 10..100000, got 5", 2)]
    [InlineData("--bootstrap", "999999999", "--bootstrap must be in 10..100000, got 999999999", 2)]
    [InlineData("--at", "/nonexistent/checkpoint.bin", "does not exist", 3)]
    [InlineData("--replot", null, "--replot redraws a --grid study's plots from its results.json: give --grid and --out with it", 2)]
    [InlineData("--out", "/nonexistent/out", "--out is the output directory of a --grid or --convergence study", 2)]
    [InlineData("--json", "/", "--json '/' is a directory: give a file name", 3)]
    [InlineData("--at", "/", "--at: / is a directory; give the checkpoint file itself (/checkpoint.bin for a run directory), or 'init'", 3)]
    [InlineData("--confidence", "1.5", "--confidence must be in (0, 1)", 2)]
    public void Bad_input_fails_with_one_line_naming_it(string option, string? value, string message, int code)
    {
        // Exit codes of the one table (docs/commands.md): 2 usage or config, 3 I/O or data.
        var (exit, _, error) = CliRun.Invoke(value is null ? Synthetic(option) : Synthetic(option, value));
        Assert.Equal(code, exit);
        Assert.Contains(message, error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_grid_study_writes_results_and_plots()
    {
        using var run = new CliRun();
        var study = run.PathOf("study.yaml");
        File.WriteAllText(study, GridStudy("[mean, median]", "[none, sign-flip]", "[1, 3]"));
        var directory = run.PathOf("out");
        var (exit, output, error) = CliRun.Invoke("resilience", "--grid", study, "--rounds", "10", "--out", directory);

        Assert.True(exit == 0, error);
        Assert.Contains("6 cells", output);
        foreach (var name in new[] { "results.json", "alpha-iid-init.png", "ball-alpha-iid-init.png", "ratio-iid-init.png" })
        {
            Assert.True(File.Exists(Path.Combine(directory, name)), name);
        }

        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "results.json")));
        Assert.Equal(6, document.RootElement.GetProperty("results").GetArrayLength());
    }

    [Fact]
    public void A_grid_out_holding_results_is_refused_and_overwrite_moves_it_aside()
    {
        using var run = new CliRun();
        var study = run.PathOf("study.yaml");
        File.WriteAllText(study, GridStudy("[mean]", "[none]", "[1]"));
        var directory = run.PathOf("out");
        Directory.CreateDirectory(directory);
        var results = Path.Combine(directory, "results.json");
        File.WriteAllText(results, "{\"saved\": true}\n");

        var refused = CliRun.Invoke("resilience", "--grid", study, "--out", directory);
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Data, refused.Exit);
        Assert.Equal(
            $"dstar resilience: --out '{directory}' already holds a study's results ({results}); pass --overwrite to move it aside to {directory}.old-TIMESTAMP, or give another --out (--replot redraws a --grid study's plots from them)",
            refused.Error.Trim());
        Assert.Equal("{\"saved\": true}\n", File.ReadAllText(results));
        Assert.Equal([results], Directory.GetFileSystemEntries(directory));

        var moved = CliRun.Invoke("resilience", "--grid", study, "--out", directory, "--overwrite");
        Assert.True(moved.Exit == 0, moved.Error);
        var aside = Assert.Single(Directory.GetDirectories(run.Directory, "out.old-*"));
        Assert.Contains($"moved the previous {directory} aside to {aside}", moved.Output);
        Assert.Equal("{\"saved\": true}\n", File.ReadAllText(Path.Combine(aside, "results.json")));
        using var document = JsonDocument.Parse(File.ReadAllText(results));
        Assert.Equal(1, document.RootElement.GetProperty("results").GetArrayLength());
    }

    [Fact]
    public void A_convergence_out_holding_results_is_refused()
    {
        using var run = new CliRun();
        var directory = run.PathOf("out");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "convergence.json"), "{}\n");
        var study = Path.Combine(RepositoryRoot(), "experiments", "studies", "convergence-linear.yaml");
        var refused = CliRun.Invoke("resilience", "--convergence", study, "--out", directory);
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Data, refused.Exit);
        Assert.Contains($"--out '{directory}' already holds a study's results ({Path.Combine(directory, "convergence.json")}); pass --overwrite", refused.Error);
        Assert.Equal("{}\n", File.ReadAllText(Path.Combine(directory, "convergence.json")));
    }

    [Theory]
    [InlineData("--overwrite")]
    [InlineData("--overwrite", "--replot")]
    public void Overwrite_needs_a_study_out_and_excludes_replot(params string[] options)
    {
        using var run = new CliRun();
        string[] arguments = options.Contains("--replot") ? ["resilience", "--grid", "g.yaml", "--out", run.Directory, .. options] : ["resilience", "--grid", "g.yaml", .. options];
        var (exit, _, error) = CliRun.Invoke(arguments);
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Usage, exit);
        Assert.Contains(options.Contains("--replot") ? "drop --overwrite" : "give --out DIR with it", error);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "experiments", "studies", "convergence-linear.yaml")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("the repository root was not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("draws: 99999999\n", "draws = '99999999' must be an integer in 2..10000")]
    [InlineData("train_rounds: 99999999\n", "train_rounds = '99999999' must be an integer in 1..10000000")]
    public void A_study_size_over_its_limit_is_refused_before_anything_runs(string line, string message)
    {
        using var run = new CliRun();
        var study = run.PathOf("study.yaml");
        File.WriteAllText(study, "config: {data: {name: synthetic-linear, samples: 400, validation_size: 100}, model: linreg, workers: 6, k: 6}\n" + line);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (exit, _, error) = CliRun.Invoke("resilience", "--grid", study, "--out", run.PathOf("out"));
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Usage, exit);
        Assert.Equal($"dstar resilience: {study}: {message}", error.Trim());
        Assert.False(Directory.Exists(run.PathOf("out")));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_study_file_with_an_unknown_key_is_refused_by_name()
    {
        using var run = new CliRun();
        var study = run.PathOf("study.yaml");
        File.WriteAllText(study, "draws: 5\nrules: [mean]\n");
        var (exit, _, error) = CliRun.Invoke("resilience", "--grid", study);
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Usage, exit);
        Assert.Contains("unknown key 'rules'", error);
    }

    // A small linreg grid study over the given lists (YAML flow sequences).
    private static string GridStudy(string aggregators, string attacks, string byzantine) => $$"""
        config:
          seed: 7
          data: {name: synthetic-linear, samples: 2000, features: 8, validation_size: 200}
          model: linreg
          workers: 10
          k: 10
          batch_size: 8
        draws: 10
        aggregators: {{aggregators}}
        attacks: {{attacks}}
        byzantine: {{byzantine}}
        """;
}

using System.Text.Json;
using Dstar.Core.Specs;
using Xunit;

namespace Dstar.Cli.Tests;

public class BenchCommandTests
{
    [Fact]
    public void Bench_json_lists_every_rule_and_pre_aggregator_with_ms_and_ratio()
    {
        var result = CliRun.Invoke("bench", "aggregators", "--n", "16", "--d", "256", "--f", "3", "--repeats", "2", "--warmups", "1", "--json");
        Assert.Equal(0, result.Exit);
        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        Assert.Equal(16, root.GetProperty("n").GetInt32());
        Assert.Equal(256, root.GetProperty("d").GetInt32());
        Assert.Equal(3, root.GetProperty("f").GetInt32());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.True(root.GetProperty("stream_read_ms").GetDouble() > 0);

        var entries = root.GetProperty("rules").EnumerateArray().ToList();
        var names = entries.Select(e => e.GetProperty("name").GetString()!).ToList();
        foreach (var name in Registry.Rules.Names.Concat(Registry.PreAggregators.Names))
        {
            Assert.Contains(name, names);
        }

        foreach (var entry in entries)
        {
            var ms = entry.GetProperty("ms");
            var ratio = entry.GetProperty("ratio");
            if (entry.TryGetProperty("skipped", out var why))
            {
                Assert.False(string.IsNullOrWhiteSpace(why.GetString()));
                Assert.Equal(JsonValueKind.Null, ms.ValueKind);
            }
            else
            {
                Assert.True(ms.GetDouble() >= 0);
                Assert.Equal(ms.GetDouble() / entry.GetProperty("stream_read_ms").GetDouble(), ratio.GetDouble(), 1e-2 * (1 + ratio.GetDouble()));
            }
        }
    }

    [Fact]
    public void Bench_reports_progress_on_stderr_and_a_table_on_stdout()
    {
        var result = CliRun.Invoke("bench", "aggregators", "--n", "5", "--d", "64", "--f", "1", "--repeats", "1", "--warmups", "0");
        Assert.Equal(0, result.Exit);
        Assert.Contains("streaming read", result.Output);
        Assert.Contains("mean", result.Output);
        Assert.Contains("[1/", result.Error);
    }

    [Fact]
    public void Rules_that_cannot_run_at_n_and_f_are_listed_as_skipped_with_the_reason()
    {
        // n = 3 with f = 1 is below every n ≥ 2f+3 rule's need; each such rule must appear with its own reason.
        var result = CliRun.Invoke("bench", "aggregators", "--n", "3", "--d", "32", "--f", "1", "--repeats", "1", "--warmups", "0", "--json");
        Assert.Equal(0, result.Exit);
        using var json = JsonDocument.Parse(result.Output);
        foreach (var entry in json.RootElement.GetProperty("rules").EnumerateArray())
        {
            var name = entry.GetProperty("name").GetString()!;
            if (Registry.Rules.Names.Contains(name))
            {
                var why = Registry.Rules.Create(name).CheckRequirements(3, 1, hasValidationGradient: true);
                if (why is not null)
                {
                    Assert.Equal(why, entry.GetProperty("skipped").GetString());
                }
            }
        }
    }

    [Theory]
    [InlineData("--n", "0", "--n must be ≥ 1, got 0")]
    [InlineData("--d", "-5", "--d must be ≥ 1, got -5")]
    [InlineData("--threads", "0", "--threads must be ≥ 1, got 0")]
    [InlineData("--repeats", "0", "--repeats must be in 1..1000, got 0")]
    [InlineData("--repeats", "2000000000", "--repeats must be in 1..1000, got 2000000000")]
    [InlineData("--warmups", "-1", "--warmups must be in 0..1000, got -1")]
    [InlineData("--warmups", "1001", "--warmups must be in 0..1000, got 1001")]
    [InlineData("--f", "-1", "--f must be ≥ 0, got -1")]
    public void Bench_refuses_bad_settings_in_one_line(string option, string value, string expected)
    {
        var result = CliRun.Invoke("bench", "aggregators", option, value);
        AggregateErrorTests.AssertOneLineFailure(result, expected);
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Usage, result.Exit);
    }

    [Fact]
    public void Only_times_the_named_components_in_registry_order()
    {
        var result = CliRun.Invoke("bench", "aggregators", "--n", "8", "--d", "128", "--f", "1", "--repeats", "1", "--warmups", "0",
            "--only", "dstar,mean", "--only", "centered-clipping iterations=1", "--json");
        Assert.Equal(0, result.Exit);
        using var json = JsonDocument.Parse(result.Output);
        var names = json.RootElement.GetProperty("rules").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Equal(["mean", "centered-clipping iterations=1", "dstar"], names);
    }

    [Fact]
    public void Only_with_an_unknown_name_fails_in_one_line_listing_the_valid_names()
    {
        var result = CliRun.Invoke("bench", "aggregators", "--only", "mean,krumm");
        AggregateErrorTests.AssertOneLineFailure(result, "--only: unknown component 'krumm'; valid: mean, ");
        Assert.Contains("geometric-median", result.Error);
    }
}

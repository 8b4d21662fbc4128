using Dstar.Cli.Failures;
using Dstar.Cli.Npy;
using Xunit;

namespace Dstar.Cli.Tests.Failures;

/// <summary>One table from failure kind to exit code, the same for every command, and no .NET formatting in the message.</summary>
public class ExitCodeTests
{
    private static (int Exit, string Output, string Error) Simulate(params string[] arguments) =>
        CliRun.Invoke(["simulate", "--quiet", "--out", Path.Combine(Path.GetTempPath(), "dstar-never-" + Guid.NewGuid().ToString("N")), .. arguments]);

    private static string OneLine(string error)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length <= 2, $"expected one problem, got:\n{error}");
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Exception", error);
        Assert.DoesNotContain("(Parameter '", error);
        return lines[^1].Trim();
    }

    [Theory]
    [InlineData("threads=100000", "threads = '100000': too large: the limit is")]
    [InlineData("batch_size=2147483647", "batch_size = '2147483647': too large: the limit is 65536")]
    [InlineData("rounds=99999999999", "rounds = '99999999999': too large: the limit is 10000000")]
    [InlineData("workers=100000", "workers = '100000': too large: the limit is 4096")]
    [InlineData("aggregator=dstar tau=0", "'dstar': parameter tau=0 is invalid: expected a value > 0")]
    [InlineData("attack=nonexistent", "attack = 'nonexistent': unknown attack 'nonexistent'")]
    [InlineData("model=mlp hidden=2000000000", "parameter hidden=2000000000 is invalid: expected a value in [1, 65536]")]
    public void A_size_or_spec_the_user_sets_is_refused_before_the_run_naming_key_value_and_limit(string set, string expected)
    {
        var result = Simulate("--set", set);
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Contains(expected, OneLine(result.Error));
        Assert.StartsWith("dstar simulate: invalid configuration (1 problem):", result.Error);
    }

    [Fact]
    public void A_nested_alias_bomb_is_refused_quickly()
    {
        using var run = new CliRun();
        var bomb = run.PathOf("bomb.yaml");
        File.WriteAllText(bomb, string.Concat(Enumerable.Range(0, 7).Select(i =>
            i == 0 ? "a: &a [x, x, x, x, x, x, x, x, x]\n" : $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(", ", Enumerable.Repeat("*" + (char)('a' + i - 1), 9))}]\n")));
        Assert.True(new FileInfo(bomb).Length < 300);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = Simulate("--config", bomb);
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Contains("more than 10000 nodes once its aliases", OneLine(result.Error));
        Assert.True(result.Error.Length < 1000, "the message must not expand the aliases");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_device_or_huge_file_as_config_is_refused_without_reading_it_all()
    {
        var result = Simulate("--config", "/dev/zero");
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Contains("--config = '/dev/zero': larger than 1048576 bytes", OneLine(result.Error));
    }

    [Fact]
    public void A_missing_config_file_is_an_io_error_naming_it()
    {
        var result = Simulate("--config", "/nonexistent/c.yaml");
        Assert.Equal(ExitCodes.Data, result.Exit);
        Assert.Equal("dstar simulate: --config '/nonexistent/c.yaml': cannot read the file: no such file", OneLine(result.Error));
    }

    [Fact]
    public void A_config_file_that_is_not_yaml_is_named_with_the_position()
    {
        using var run = new CliRun();
        var config = run.PathOf("c.yaml");
        File.WriteAllText(config, "rounds: [1\n");
        var result = Simulate("--config", config);
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.StartsWith($"--config = '{config}': not valid YAML at line 2, column 1:", OneLine(result.Error));
    }

    [Fact]
    public void A_broken_or_missing_config_yaml_on_resume_names_the_run_s_file_and_changes_nothing()
    {
        using var run = new CliRun();
        var config = run.PathOf("config.yaml");
        File.WriteAllText(config, "rounds: [1\n");
        var result = CliRun.Invoke("simulate", "--quiet", "--resume", "--out", run.Directory);
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.StartsWith($"--resume = '{config}': not valid YAML at line 2, column 1:", OneLine(result.Error));
        Assert.Equal("rounds: [1\n", File.ReadAllText(config));
        Assert.Equal([config], Directory.GetFileSystemEntries(run.Directory));

        var missing = Path.Combine(run.Directory, "none");
        var absent = CliRun.Invoke("simulate", "--quiet", "--resume", "--out", missing);
        Assert.Equal(ExitCodes.Data, absent.Exit);
        Assert.Equal($"dstar simulate: --resume '{Path.Combine(missing, "config.yaml")}': cannot read the file: no such file", OneLine(absent.Error));
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void A_missing_data_directory_is_named_by_its_key()
    {
        var output = Path.Combine(Path.GetTempPath(), "dstar-never-" + Guid.NewGuid().ToString("N"));
        var result = CliRun.Invoke("simulate", "--quiet", "--out", output, "--set", "data.name=mnist", "--set", "data.dir=/nonexistent-data");
        Assert.Equal(ExitCodes.Data, result.Exit);
        Assert.Equal("dstar simulate: /nonexistent-data: data.dir: no such directory", OneLine(result.Error));
        Assert.False(Directory.Exists(output), "a run refused for its data leaves no empty run directory");
    }

    [Theory]
    [InlineData("data.samples=30", "data.validation_size=20", "data.validation_size = 20 is too large: at most 10 (the training set has 30 samples and each of the 20 workers needs at least one)")]
    [InlineData("data.samples=10", "data.validation_size=5", "the training set has 10 samples, fewer than the 20 workers (each needs at least one)")]
    public void Validation_size_errors_name_the_key_and_a_real_range(string samples, string validation, string expected)
    {
        var result = Simulate("--set", "data.name=synthetic-logistic", "--set", samples, "--set", validation, "--set", "rounds=1");
        var line = OneLine(result.Error);
        Assert.Equal(ExitCodes.Data, result.Exit);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("0..-", line);
    }

    [Fact]
    public void Unknown_options_are_usage_errors()
    {
        Assert.Equal(ExitCodes.Usage, CliRun.Invoke("simulate", "--no-such-option").Exit);
        Assert.Equal(ExitCodes.Usage, CliRun.Invoke("aggregate", "--rule", "mean").Exit);
    }

    [Fact]
    public void A_worker_id_outside_the_config_is_one_line_without_dotnet_formatting()
    {
        using var run = new CliRun();
        var result = CliRun.Invoke("work", "--server", "http://127.0.0.1:1", "--id", "9", "--key", run.PathOf("k"), "--set", "workers=6", "--set", "k=4");
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal("dstar work: --id 9: must be in 0..5, the worker ids of this config (workers = 6)", OneLine(result.Error));
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("NaN")]
    [InlineData("1e300")]
    public void A_retry_window_outside_zero_to_a_week_is_refused(string seconds)
    {
        using var run = new CliRun();
        var result = CliRun.Invoke("work", "--server", "http://127.0.0.1:1", "--id", "0", "--key", run.PathOf("k"), "--retry-seconds", seconds);
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Contains("--retry-seconds", OneLine(result.Error));
        Assert.Contains("must be in 0..604800 (one week)", result.Error);
    }

    [Fact]
    public void Keygen_with_a_negative_id_says_so_without_parameter_names()
    {
        using var run = new CliRun();
        var result = CliRun.Invoke("keygen", "--id", "-1", "--out", run.Directory);
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal("dstar keygen: A worker id must be ≥ 0.", OneLine(result.Error));
    }

    [Fact]
    public void Keygen_refuses_an_existing_key_or_a_file_as_its_directory_and_changes_neither()
    {
        using var run = new CliRun();
        Assert.Equal(0, CliRun.Invoke("keygen", "--id", "0", "--out", run.Directory).Exit);
        var key = run.PathOf("worker-0.key");
        var before = File.ReadAllBytes(key);
        var again = CliRun.Invoke("keygen", "--id", "0", "--out", run.Directory);
        Assert.Equal(ExitCodes.Data, again.Exit);
        Assert.Equal($"dstar keygen: '{key}' already exists; refusing to overwrite a private key.", OneLine(again.Error));
        Assert.Equal(before, File.ReadAllBytes(key));

        var file = run.PathOf("not-a-directory");
        File.WriteAllText(file, "x");
        var onFile = CliRun.Invoke("keygen", "--id", "1", "--out", file);
        Assert.Equal(ExitCodes.Data, onFile.Exit);
        Assert.Equal($"dstar keygen: '{file}' is a file, not a directory: give the directory for worker-1.key and worker-1.pub", OneLine(onFile.Error));
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Fact]
    public void A_malformed_npy_input_is_a_data_error()
    {
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("x.npy"), "not numpy");
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        Assert.Equal(ExitCodes.Data, result.Exit);
    }

    [Fact]
    public void A_rule_that_refuses_its_input_is_a_failed_run()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "krum f=1", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        Assert.Equal(ExitCodes.RunFailed, result.Exit);
        Assert.StartsWith("dstar aggregate: ", OneLine(result.Error));
    }

    [Fact]
    public void An_unexpected_exception_prints_one_line_naming_a_log_that_holds_the_trace()
    {
        using var run = new CliRun();
        var error = new StringWriter();
        var code = CommandRunner.Run("test", error, scope =>
        {
            scope.RunDirectory = run.Directory;
            throw new NotSupportedException("boom");
        });
        Assert.Equal(ExitCodes.RunFailed, code);
        var log = run.PathOf(CommandRunner.ErrorLogName);
        Assert.Equal($"dstar test: internal error: boom; the details are in {log}", error.ToString().Trim());
        Assert.Contains("   at ", File.ReadAllText(log));
        Assert.Contains("System.NotSupportedException", File.ReadAllText(log));

        // Without a run directory the log is a temporary file.
        var elsewhere = new StringWriter();
        CommandRunner.Run("test", elsewhere, _ => throw new NotSupportedException("boom"));
        var path = elsewhere.ToString().Trim().Split("the details are in ")[1];
        Assert.StartsWith(Path.GetTempPath(), path);
        Assert.Contains("   at ", File.ReadAllText(path));
        File.Delete(path);
    }

    [Fact]
    public void Every_kind_has_the_code_of_the_documented_table()
    {
        Assert.Equal(1, ExitCodes.Of(FailureKind.RunFailed));
        Assert.Equal(2, ExitCodes.Of(FailureKind.Usage));
        Assert.Equal(3, ExitCodes.Of(FailureKind.Data));
        Assert.Equal(4, ExitCodes.Of(FailureKind.Refused));
        Assert.Equal(130, ExitCodes.Of(FailureKind.Interrupted));
        Assert.Equal(1, ExitCodes.Of(FailureKind.Unexpected));
        Assert.Equal(5, ExitCodes.Unreachable);
        Assert.Equal(143, ExitCodes.Terminated);
        var table = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "commands.md"));
        foreach (var row in new[] { "| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |", "| 5 |", "| 130 |", "| 143 |" })
        {
            Assert.Contains(row, table);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "docs", "commands.md")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (docs/commands.md) was not found above " + AppContext.BaseDirectory);
    }
}

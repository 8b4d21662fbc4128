using Dstar.Cli.Commands;
using Dstar.Cli.Failures;
using Xunit;

namespace Dstar.Cli.Tests;

/// <summary>Several workers in one process: <c>dstar work --ids</c> and <c>dstar launch --workers-per-process</c>.</summary>
public class WorkerGroupArgumentTests
{
    [Theory]
    [InlineData("3", new[] { 3 })]
    [InlineData("0-3", new[] { 0, 1, 2, 3 })]
    [InlineData("6, 0-2,4", new[] { 6, 0, 1, 2, 4 })]
    [InlineData("5-5", new[] { 5 })]
    public void Ids_are_ids_and_inclusive_ranges_in_the_order_given(string text, int[] expected) =>
        Assert.Equal(expected, WorkCommand.ParseIds(text));

    [Theory]
    [InlineData("", "'' is not a worker id or a range of them")]
    [InlineData("0,,2", "'' is not a worker id or a range of them")]
    [InlineData("one", "'one' is not a worker id")]
    [InlineData("-1", "'-1' is not a worker id")]
    [InlineData("1-2-3", "'1-2-3' is not a worker id")]
    [InlineData("99999999999", "'99999999999' is not a worker id")]
    [InlineData("4-2", "the range '4-2' runs backwards")]
    [InlineData("0-3,2", "worker 2 is given twice")]
    [InlineData("0-2000000000", "more than 1024 workers for one process")]
    public void Unusable_ids_are_refused_by_name(string text, string message)
    {
        var error = Assert.Throws<CommandFailure>(() => WorkCommand.ParseIds(text));
        Assert.StartsWith($"--ids {text}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Work_refuses_id_with_ids_and_ids_with_a_key_file_and_names_a_missing_key()
    {
        using var run = new CliRun();
        Assert.Equal(0, CliRun.Invoke("keygen", "--id", "0", "--out", run.Directory).Exit);
        var keyFile = Path.Combine(run.Directory, "worker-0.key");

        var (code, error) = PodArgumentTests.Dstar("work", "--server", "https://127.0.0.1:1", "--id", "0", "--ids", "0-1", "--key", run.Directory);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--id and --ids: give one or the other", error, StringComparison.Ordinal);

        (code, error) = PodArgumentTests.Dstar("work", "--server", "https://127.0.0.1:1", "--ids", "0-1", "--key", keyFile);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"--key {keyFile}: with --ids it must be a directory", error, StringComparison.Ordinal);

        // Worker 1's key is missing: every key is read before any data is loaded, and the error names the file.
        (code, error) = PodArgumentTests.Dstar("work", "--server", "https://127.0.0.1:1", "--ids", "0-1", "--key", run.Directory, "--retry-seconds", "0",
            "--set", "workers=2", "--set", "k=2");
        Assert.Equal(ExitCodes.Data, code);
        Assert.Contains(Path.Combine(run.Directory, "worker-1.key"), error, StringComparison.Ordinal);

        // An id outside the config's workers is refused before anything is opened.
        (code, error) = PodArgumentTests.Dstar("work", "--server", "https://127.0.0.1:1", "--ids", "0-2", "--key", run.Directory, "--set", "workers=2", "--set", "k=2");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--ids 0-2: worker 2 is not one of this config's workers 0..1 (workers = 2)", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    [InlineData("two")]
    [InlineData("")]
    [InlineData("1025")]
    public void Launch_refuses_a_workers_per_process_that_is_not_auto_or_a_count(string value)
    {
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("c.yaml"), "workers: 2\nk: 2\n");
        var (code, _, error) = CliRun.Invoke("launch", "--config", run.PathOf("c.yaml"), "--out", run.PathOf("out"), "--workers-per-process", value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"--workers-per-process {value}: expected auto or a count from 1 to 1024", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(run.PathOf("out")), "nothing is written for a refused launch");
    }

    [Theory]
    [InlineData("auto", null)]
    [InlineData("1", 1)]
    [InlineData("8", 8)]
    public void Workers_per_process_is_auto_or_a_count(string text, int? expected) => Assert.Equal(expected, LaunchCommand.WorkersPerProcess(text));

    [Theory]
    [InlineData(8, 8)]
    [InlineData(1, 1)]
    [InlineData(1024, 1024)]
    [InlineData(1025, 1024)]
    [InlineData(4096, 1024)]
    public void Auto_runs_all_workers_in_one_process_up_to_the_group_limit(int workers, int expected)
    {
        int perProcess = Dstar.Cluster.Launch.ClusterLauncher.AutoWorkersPerProcess(workers);
        Assert.Equal(expected, perProcess);
        Assert.Equal((workers + 1023) / 1024, (workers + perProcess - 1) / perProcess);
    }
}

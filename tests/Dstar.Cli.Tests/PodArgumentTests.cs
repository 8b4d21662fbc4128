using Dstar.Cli.Commands;
using Xunit;

namespace Dstar.Cli.Tests;

/// <summary>What `dstar work` and `dstar serve` take from a pod: the Indexed Job's completion index, and --auto-resume.</summary>
public class PodArgumentTests
{
    [Theory]
    [InlineData(null, "4", 4)]
    [InlineData(2, "4", 2)]
    [InlineData(0, null, 0)]
    public void Worker_id_is_the_option_else_the_completion_index(int? option, string? index, int expected) =>
        Assert.Equal(expected, WorkCommand.WorkerId(option, index));

    [Theory]
    [InlineData(null, "--id is required (or set JOB_COMPLETION_INDEX")]
    [InlineData("-1", "JOB_COMPLETION_INDEX: '-1' is not a worker id")]
    [InlineData("one", "JOB_COMPLETION_INDEX: 'one' is not a worker id")]
    public void Worker_without_a_usable_id_is_refused_by_name(string? index, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => WorkCommand.WorkerId(null, index));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Work_picks_the_id_key_from_a_key_directory()
    {
        using var run = new CliRun();
        // Worker 1's key is missing from the directory: the error names the file it looked for.
        var (exit, _, _) = CliRun.Invoke("keygen", "--id", "0", "--out", run.Directory);
        Assert.Equal(0, exit);
        var (code, error) = Dstar("work", "--server", "https://127.0.0.1:1", "--id", "1", "--key", run.Directory, "--retry-seconds", "0");
        Assert.Equal(global::Dstar.Cli.Failures.ExitCodes.Data, code);
        Assert.Contains(Path.Combine(run.Directory, "worker-1.key"), error, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_auto_resume_needs_a_place_to_look_and_excludes_resume()
    {
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("c.yaml"), "workers: 2\nk: 2\n");
        var (code, error) = Dstar("serve", "--config", run.PathOf("c.yaml"), "--authorized-keys", "x", "--auto-resume");
        Assert.Equal(2, code);
        Assert.Contains("--auto-resume needs --checkpoint-dir or --out", error, StringComparison.Ordinal);

        (code, error) = Dstar("serve", "--config", run.PathOf("c.yaml"), "--authorized-keys", "x", "--auto-resume", "--resume", "--out", run.Directory);
        Assert.Equal(2, code);
        Assert.Contains("--auto-resume and --resume: give one", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_auto_resume_without_a_checkpoint_keeps_the_earlier_runs_files_and_starts_again()
    {
        // A pod killed before its first checkpoint left config.yaml and metrics.jsonl in --out (a volume's mount point,
        // which cannot be renamed): the restarted server must not refuse the directory, nor lose those files.
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("c.yaml"), "workers: 2\nk: 2\n");
        var output = Directory.CreateDirectory(run.PathOf("out")).FullName;
        File.WriteAllText(Path.Combine(output, "config.yaml"), "workers: 2\n");
        File.WriteAllText(Path.Combine(output, "metrics.jsonl"), "{\"round\":0}\n");

        var (code, error) = Dstar("serve", "--config", run.PathOf("c.yaml"), "--authorized-keys", run.PathOf("missing-keys"), "--auto-resume", "--out", output, "--insecure", "--listen", "http://127.0.0.1:47123");
        Assert.DoesNotContain("already holds a run", error, StringComparison.Ordinal);
        Assert.Contains("missing-keys", error, StringComparison.Ordinal); // it went on to start the server
        Assert.NotEqual(0, code);
        var aside = Assert.Single(Directory.GetDirectories(output, "previous-run-*"));
        Assert.Equal("{\"round\":0}\n", File.ReadAllText(Path.Combine(aside, "metrics.jsonl")));
        Assert.Equal("workers: 2\n", File.ReadAllText(Path.Combine(aside, "config.yaml")));
        Assert.Contains($"earlier run's files are in {aside}", error, StringComparison.Ordinal);
    }

    /// <summary>Runs this build's dstar as a process: the cluster commands report input errors on the process's stderr.</summary>
    internal static (int Exit, string Error) Dstar(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dstar.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "dstar did not finish in a minute");
        return (process.ExitCode, error + output.Result);
    }
}

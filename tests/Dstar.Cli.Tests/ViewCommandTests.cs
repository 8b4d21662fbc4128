using Xunit;

namespace Dstar.Cli.Tests;

public class ViewCommandTests
{
    [Fact]
    public void Simulate_refuses_a_non_loopback_view_without_tls_and_token()
    {
        var (exit, _, error) = CliRun.Invoke("simulate", "--view", "http://0.0.0.0:8090", "--set", "rounds=1");
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Usage, exit);
        Assert.Contains("dstar simulate: --view 'http://0.0.0.0:8090' is refused: '0.0.0.0' is not a loopback address", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("simulate")]
    public void View_options_without_view_are_refused_in_one_line_as_usage(string command)
    {
        var (exit, _, error) = CliRun.Invoke(command, "--view-token", "0123456789abcdef0123");
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Usage, exit);
        Assert.Equal($"dstar {command}: --view-token, --view-token-file, --view-cert and --view-key need --view", error.Trim());
    }

    [Fact]
    public void View_of_a_missing_directory_is_one_line()
    {
        using var run = new CliRun();
        var (exit, _, error) = CliRun.Invoke("view", run.PathOf("nothing-here"));
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Data, exit);
        Assert.Equal($"dstar view: '{run.PathOf("nothing-here")}': no such directory", error.Trim());
    }

    [Fact]
    public void Simulate_with_view_serves_the_run_and_finishes()
    {
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("config.yaml"), "rounds: 20\ndata:\n  name: synthetic-logistic\n  samples: 1000\n  features: 5\n  validation_size: 100\nmodel: logreg\nworkers: 8\nk: 6\nbyzantine: 2\nattack: sign-flip\naggregator: dstar\ncheckpoint_every: 0\n");
        var (exit, output, error) = CliRun.Invoke("simulate", "--config", run.PathOf("config.yaml"), "--out", run.PathOf("run"), "--quiet", "--view", "http://127.0.0.1:0");
        Assert.True(exit == 0, error);
        Assert.Matches(@"view: http://127\.0\.0\.1:\d+/", output);
        Assert.True(File.Exists(run.PathOf("run/summary.json")));
    }
}

public class SweepViewOptionTests
{
    [Fact]
    public void Sweep_refuses_a_non_loopback_view_without_tls_and_token_in_one_line()
    {
        var study = System.IO.Path.Combine(RepositoryRoot(), "experiments", "studies", "quick.yaml");
        using var run = new CliRun();
        var (exit, _, error) = CliRun.Invoke("sweep", study, "--out", run.PathOf("q"), "--view", "http://0.0.0.0:8090");
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Usage, exit);
        Assert.StartsWith("dstar sweep: --view 'http://0.0.0.0:8090' is refused: '0.0.0.0' is not a loopback address", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(run.PathOf("q")), "nothing is run when the view is refused");
    }

    [Fact]
    public void Sweep_view_options_without_view_are_refused()
    {
        var (exit, _, error) = CliRun.Invoke("sweep", "any.yaml", "--view-token", "0123456789abcdef0123");
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Usage, exit);
        Assert.Equal("dstar sweep: --view-token, --view-token-file, --view-cert and --view-key need --view", error.Trim());
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "dstar.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("the repository root (dstar.sln)");
    }
}

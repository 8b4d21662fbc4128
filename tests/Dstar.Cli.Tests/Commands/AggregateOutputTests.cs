using Dstar.Cli.Failures;
using Dstar.Cli.Npy;
using Xunit;

namespace Dstar.Cli.Tests.Commands;

/// <summary>What <c>dstar aggregate</c> writes when its outputs collide or one of them cannot be written.</summary>
public class AggregateOutputTests
{
    [Fact]
    public void Report_and_output_on_the_same_file_are_refused_before_anything_is_written()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var same = run.PathOf("o.npy");
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", same, "--report", same);
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal($"dstar aggregate: --report and --output are the same file '{same}': the report would overwrite the aggregate; give two paths", result.Error.Trim());
        Assert.False(File.Exists(same));
    }

    [Fact]
    public void A_report_onto_the_input_is_refused_and_the_input_is_unchanged()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var before = File.ReadAllBytes(run.PathOf("x.npy"));
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"), "--report", run.PathOf("x.npy"));
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Contains("is the --input file", result.Error);
        Assert.Equal(before, File.ReadAllBytes(run.PathOf("x.npy")));
    }

    [Theory]
    [InlineData("--input")]
    [InlineData("--validation")]
    public void An_output_onto_an_input_is_refused_and_the_input_is_unchanged(string option)
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        NpyWriter.Write(run.PathOf("g.npy"), new float[] { 7, 8, 9 }, 3);
        var target = option == "--input" ? run.PathOf("x.npy") : run.PathOf("g.npy");
        var before = File.ReadAllBytes(target);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--validation", run.PathOf("g.npy"), "--output", target);
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal($"dstar aggregate: --output '{target}' is the {option} file: the aggregate would overwrite it; give another path", result.Error.Trim());
        Assert.Equal(before, File.ReadAllBytes(target));
        Assert.Equal(["g.npy", "x.npy"], Directory.GetFiles(run.Directory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_report_that_cannot_be_written_leaves_no_aggregate_behind()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"),
            "--report", run.PathOf(Path.Combine("no-such-directory", "r.json")));
        Assert.Equal(ExitCodes.Data, result.Exit);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(run.PathOf("o.npy")));
        Assert.Equal(["x.npy"], Directory.GetFiles(run.Directory).Select(Path.GetFileName));
    }

    [Fact]
    public void An_existing_aggregate_is_kept_when_the_new_report_fails()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        NpyWriter.Write(run.PathOf("o.npy"), new float[] { 9, 9, 9 }, 3);
        var before = File.ReadAllBytes(run.PathOf("o.npy"));
        Directory.CreateDirectory(run.PathOf("r.json"));
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"), "--report", run.PathOf("r.json"));
        Assert.Equal(ExitCodes.Data, result.Exit);
        Assert.Contains("is a directory", result.Error);
        Assert.Equal(before, File.ReadAllBytes(run.PathOf("o.npy")));
    }
}

using Dstar.Cli.Failures;
using Xunit;

namespace Dstar.Cli.Tests.Failures;

/// <summary>
/// The study files of <c>dstar sweep</c> and <c>dstar resilience --grid</c> (and a study's <c>base_config</c>) are held
/// to the limits of a config file: a device, a huge file or a file of nested aliases is refused with one line, quickly,
/// instead of being read or expanded until the process runs out of memory.
/// </summary>
public class StudyFileLimitTests
{
    private const string Cell = "base: {rounds: 2, data: {name: synthetic-logistic, samples: 400, validation_size: 100}, workers: 6, k: 4}\ngrid: {aggregator: [mean]}\n";

    // 275 bytes that stand for 9⁷ ≈ 4.8 million nodes once the aliases are expanded.
    private static string AliasBomb(string firstKey) => string.Concat(Enumerable.Range(0, 7).Select(i =>
        i == 0 ? $"{firstKey}: &a [x, x, x, x, x, x, x, x, x]\n" : $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(", ", Enumerable.Repeat("*" + (char)('a' + i - 1), 9))}]\n"));

    private static (int Exit, string Output, string Error) Sweep(CliRun run, string study) =>
        CliRun.Invoke("sweep", study, "--out", run.PathOf("out"), "--parallel", "1", "--no-report");

    private static void NoDotnetFormatting(string error)
    {
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Exception", error);
        Assert.True(error.Length < 1000, $"the message must be short, got {error.Length} characters");
    }

    [Fact]
    public void A_device_as_the_study_file_is_refused_without_reading_it_all()
    {
        using var run = new CliRun();
        var result = Sweep(run, "/dev/zero");
        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(
            "dstar sweep: invalid study /dev/zero (1 problem):\n  (study) = '/dev/zero': larger than 1048576 bytes: the limit is 1048576 (a study or config file is a few kilobytes)",
            result.Error.Trim().ReplaceLineEndings("\n"));
        Assert.False(Directory.Exists(run.PathOf("out")));
    }

    [Fact]
    public void A_device_as_the_base_config_is_refused_naming_the_key()
    {
        using var run = new CliRun();
        File.WriteAllText(run.PathOf("s.yaml"), Cell + "base_config: /dev/zero\n");
        var result = Sweep(run, run.PathOf("s.yaml"));
        Assert.Equal(ExitCodes.Usage, result.Exit);
        NoDotnetFormatting(result.Error);
        Assert.Contains("base_config = '/dev/zero': larger than 1048576 bytes: the limit is 1048576", result.Error);
    }

    [Fact]
    public void A_directory_as_the_study_file_says_so()
    {
        using var run = new CliRun();
        var result = Sweep(run, run.Directory);
        Assert.Equal(ExitCodes.Data, result.Exit);
        NoDotnetFormatting(result.Error);
        Assert.Equal($"dstar sweep: {run.Directory}: cannot read the file: it is a directory", result.Error.Trim());
    }

    [Theory]
    [InlineData("study")]
    [InlineData("base_config")]
    public void Nested_aliases_in_a_study_or_its_base_config_are_refused_quickly(string where)
    {
        using var run = new CliRun();
        if (where == "study")
        {
            File.WriteAllText(run.PathOf("s.yaml"), Cell + AliasBomb("za"));
        }
        else
        {
            File.WriteAllText(run.PathOf("base.yaml"), AliasBomb("a"));
            File.WriteAllText(run.PathOf("s.yaml"), Cell + "base_config: base.yaml\n");
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = Sweep(run, run.PathOf("s.yaml"));
        Assert.Equal(ExitCodes.Usage, result.Exit);
        NoDotnetFormatting(result.Error);
        Assert.Contains("more than 10000 nodes once its aliases (*name) are expanded: the limit is 10000", result.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_device_or_nested_aliases_as_a_resilience_study_are_refused()
    {
        using var run = new CliRun();
        var device = CliRun.Invoke("resilience", "--grid", "/dev/zero", "--out", run.PathOf("out"));
        Assert.Equal(ExitCodes.Usage, device.Exit);
        Assert.Equal("dstar resilience: /dev/zero: larger than 1048576 bytes: the limit is 1048576 (a study file is a few hundred bytes)", device.Error.Trim());

        File.WriteAllText(run.PathOf("r.yaml"), "config: {rounds: 2}\n" + AliasBomb("za"));
        var bomb = CliRun.Invoke("resilience", "--convergence", run.PathOf("r.yaml"), "--out", run.PathOf("out"));
        Assert.Equal(ExitCodes.Usage, bomb.Exit);
        NoDotnetFormatting(bomb.Error);
        Assert.Contains("more than 10000 nodes once its aliases (*name) are expanded", bomb.Error);

        var directory = CliRun.Invoke("resilience", "--grid", run.Directory, "--out", run.PathOf("out"));
        Assert.Equal(ExitCodes.Data, directory.Exit);
        Assert.Equal($"dstar resilience: {run.Directory}: cannot read the file: it is a directory", directory.Error.Trim());
        Assert.False(Directory.Exists(run.PathOf("out")));
    }
}

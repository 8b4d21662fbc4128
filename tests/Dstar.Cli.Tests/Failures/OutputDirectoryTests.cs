using Dstar.Cli.Failures;
using Xunit;

namespace Dstar.Cli.Tests.Failures;

/// <summary>
/// An --out that cannot be created is refused naming the option, the path and why, with the data exit code, instead of
/// .NET's "Could not find a part of the path".
/// </summary>
public class OutputDirectoryTests
{
    private const string Study = "base: {rounds: 2, data: {name: synthetic-logistic, samples: 400, validation_size: 100}, workers: 6, k: 4}\ngrid: {aggregator: [mean]}\n";

    [Theory]
    [InlineData("keygen", "--id", "1")]
    [InlineData("simulate", "--quiet", "--set", "rounds=1")]
    [InlineData("demo", "--set", "rounds=1")]
    [InlineData("sweep", "STUDY", "--no-report")]
    [InlineData("resilience", "--grid", "STUDY")]
    public void An_out_under_a_file_is_refused_naming_the_option_and_the_file(string command, params string[] rest)
    {
        using var run = new CliRun();
        var file = run.PathOf("a-file");
        File.WriteAllText(file, "not a directory\n");
        var study = run.PathOf(command == "sweep" ? "s.yaml" : "r.yaml");
        File.WriteAllText(study, command == "sweep" ? Study : "config: {data: {name: synthetic-linear, samples: 400, validation_size: 100}, model: linreg, workers: 6, k: 6}\ndraws: 2\naggregators: [mean]\nattacks: [none]\nbyzantine: [1]\n");
        var output = Path.Combine(file, "out");

        var (exit, _, error) = CliRun.Invoke([command, .. rest.Select(r => r == "STUDY" ? study : r), "--out", output]);

        Assert.Equal(ExitCodes.Data, exit);
        Assert.Equal($"dstar {command}: --out '{output}': cannot create the directory: {file} is a file, not a directory", error.Trim());
    }
}

using System.Text.Json;
using Dstar.Cli.Npy;
using Xunit;

namespace Dstar.Cli.Tests;

public class AggregateCommandTests
{
    [Fact]
    public void Mean_of_a_float64_file_is_written_as_float32_vector_with_a_report()
    {
        using var run = new CliRun();
        double[] rows = [1, 2, 3, 5, 6, 7, 9, 10, 14];
        NpyWriter.Write(run.PathOf("x.npy"), rows, 3, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"), "--report", run.PathOf("r.json"));
        Assert.Equal(0, result.Exit);
        Assert.Equal("", result.Error);
        var (header, values) = NpyReader.Read(run.PathOf("o.npy"));
        Assert.Equal(NpyElementType.Float32, header.ElementType);
        Assert.Equal(new long[] { 3 }, header.Shape);
        Assert.Equal(new[] { 5f, 6f, 8f }, values);

        using var report = JsonDocument.Parse(File.ReadAllText(run.PathOf("r.json")));
        var root = report.RootElement;
        Assert.Equal("mean", root.GetProperty("rule").GetString());
        Assert.Equal(3, root.GetProperty("n").GetInt32());
        Assert.Equal(3, root.GetProperty("d").GetInt32());
        Assert.Equal(new[] { 0, 1, 2 }, root.GetProperty("kept").EnumerateArray().Select(e => e.GetInt32()));
        Assert.All(root.GetProperty("weights").EnumerateArray(), w => Assert.Equal(1.0 / 3, w.GetDouble(), 12));
        Assert.Empty(root.GetProperty("non_finite").EnumerateArray());
        Assert.True(root.GetProperty("seconds").GetDouble() >= 0);
    }

    [Fact]
    public void Non_finite_rows_are_dropped_and_named_in_the_report()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), [1f, 2f, float.NaN, 0f, 3f, 4f], 3, 2);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"), "--report", run.PathOf("r.json"));
        Assert.Equal(0, result.Exit);
        Assert.Equal(new[] { 2f, 3f }, NpyReader.ReadVector(run.PathOf("o.npy"), 2));
        using var report = JsonDocument.Parse(File.ReadAllText(run.PathOf("r.json")));
        Assert.Equal(new[] { 1 }, report.RootElement.GetProperty("non_finite").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(new[] { 0, 2 }, report.RootElement.GetProperty("kept").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void Float64_values_beyond_float32_range_become_a_dropped_non_finite_row()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new double[] { 1, 1e300, 3, 4 }, 2, 2);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        Assert.Equal(0, result.Exit);
        Assert.Equal(new[] { 3f, 4f }, NpyReader.ReadVector(run.PathOf("o.npy"), 2));
        Assert.Contains("1 non-finite dropped", result.Output);
    }

    [Fact]
    public void Summary_line_names_the_rule_and_the_rows_kept()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[8], 4, 2);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        Assert.Equal(0, result.Exit);
        Assert.Contains("mean: n=4 d=2, kept 4 of 4 rows", result.Output);
    }
}

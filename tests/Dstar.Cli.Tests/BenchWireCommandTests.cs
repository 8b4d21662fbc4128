using System.Text.Json;
using Xunit;

namespace Dstar.Cli.Tests;

/// <summary>
/// <c>dstar bench wire</c>: the JSON shape and that every figure is a positive measurement. No timing thresholds: how
/// fast the push is depends on the machine (docs/benchmarks.md records the figures).
/// </summary>
public class BenchWireCommandTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Wire_json_has_one_run_per_d_with_positive_throughputs_and_their_ratio(bool tls)
    {
        string[] args = ["bench", "wire", "--d", "1000", "--d", "30000", "--repeats", "2", "--warmups", "1", "--json", .. tls ? new[] { "--tls" } : []];
        var result = CliRun.Invoke(args);
        Assert.True(result.Exit == 0, result.Error);
        using var json = JsonDocument.Parse(result.Output);
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal([1000, 30000], runs.Select(r => r.GetProperty("d").GetInt32()));
        foreach (var run in runs)
        {
            Assert.Equal(tls, run.GetProperty("tls").GetBoolean());
            Assert.Equal(4L * run.GetProperty("d").GetInt32(), run.GetProperty("bytes").GetInt64());
            var raw = run.GetProperty("raw_gbps").GetDouble();
            var grpc = run.GetProperty("grpc_gbps").GetDouble();
            Assert.True(raw > 0 && double.IsFinite(raw), $"raw_gbps {raw}");
            Assert.True(grpc > 0 && double.IsFinite(grpc), $"grpc_gbps {grpc}");
            Assert.Equal(grpc / raw, run.GetProperty("ratio").GetDouble(), 1e-3 * (1 + grpc / raw));
            // GB/s and ms describe the same pushes: 4·d bytes over the median time.
            Assert.Equal(4e-6 * run.GetProperty("d").GetInt32() / run.GetProperty("grpc_ms").GetDouble(), grpc, 1e-3 * grpc);

            // The cluster's path is the upload channel; the session-stream push is measured beside it.
            Assert.Equal("upload", run.GetProperty("grpc_path").GetString());
            var stream = run.GetProperty("stream_gbps").GetDouble();
            Assert.True(stream > 0 && double.IsFinite(stream), $"stream_gbps {stream}");
            Assert.Equal(stream / raw, run.GetProperty("stream_ratio").GetDouble(), 1e-3 * (1 + stream / raw));
            Assert.Equal(4e-6 * run.GetProperty("d").GetInt32() / run.GetProperty("stream_ms").GetDouble(), stream, 1e-3 * stream);
        }

        Assert.Contains("[2/2] d = 30,000", result.Error);
    }

    [Theory]
    [InlineData("--d", "0", "--d must be in 1..")]
    [InlineData("--repeats", "0", "--repeats must be in 1..1000, got 0")]
    [InlineData("--repeats", "2000000000", "--repeats must be in 1..1000, got 2000000000")]
    [InlineData("--warmups", "-1", "--warmups must be in 0..1000, got -1")]
    [InlineData("--warmups", "5000", "--warmups must be in 0..1000, got 5000")]
    public void Wire_refuses_bad_settings_in_one_line(string option, string value, string expected)
    {
        var result = CliRun.Invoke("bench", "wire", option, value);
        AggregateErrorTests.AssertOneLineFailure(result, expected);
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Usage, result.Exit);
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using Dstar.Cluster.Observability;

namespace Dstar.Cluster.Tests.Observability;

/// <summary>
/// The /metrics text: valid Prometheus exposition (every sample under a declared family, every value a number), and the
/// server process's own figures following what the process does.
/// </summary>
public sealed partial class ClusterMetricsTests
{
    [Fact]
    public void Every_sample_belongs_to_a_declared_family_and_has_a_numeric_value()
    {
        var metrics = new ClusterMetrics();
        metrics.RecordRound(0, 0.02);
        metrics.RecordKept(1);
        metrics.RecordDropped(2, "late");
        metrics.RecordRefused("unregistered");
        var declared = new Dictionary<string, string>();
        var samples = 0;
        foreach (var line in metrics.Render().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (TypeLine().Match(line) is { Success: true } type)
            {
                Assert.True(declared.TryAdd(type.Groups[1].Value, type.Groups[2].Value), $"family declared twice: {line}");
                continue;
            }

            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                continue;
            }

            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"not a sample line: {line}");
            var name = sample.Groups[1].Value;
            var family = declared.Keys.FirstOrDefault(f => name == f || (declared[f] == "histogram" && (name == f + "_bucket" || name == f + "_sum" || name == f + "_count")));
            Assert.True(family is not null, $"sample {name} comes before (or without) its # TYPE line");
            Assert.True(double.TryParse(sample.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value), line);
            samples++;
        }

        Assert.Contains("process_cpu_seconds_total", declared.Keys);
        Assert.Equal("counter", declared["dotnet_gc_allocated_bytes_total"]);
        Assert.True(samples > 20);
    }

    [Fact]
    public void The_process_figures_follow_what_the_process_does()
    {
        var metrics = new ClusterMetrics();
        var before = Values(metrics.Render());

        // 16 MB allocated and kept alive, a collection forced, and 0.3 s of CPU spent, as the kernel counts it for the
        // process (/proc/self/stat, through Process), however long a loaded machine takes to give it.
        var kept = Enumerable.Range(0, 16).Select(_ => new byte[1 << 20]).ToList();
        GC.Collect(0);
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var sink = 0.0;
        for (var wall = System.Diagnostics.Stopwatch.StartNew(); wall.Elapsed < TimeSpan.FromSeconds(60); sink += Math.Sqrt(wall.ElapsedTicks))
        {
            self.Refresh();
            if (self.TotalProcessorTime - cpu >= TimeSpan.FromSeconds(0.3))
            {
                break;
            }
        }

        var after = Values(metrics.Render());
        Assert.True(sink > 0 && kept.Count == 16);
        Assert.True(after["dotnet_gc_allocated_bytes_total"] - before["dotnet_gc_allocated_bytes_total"] >= 16 << 20);
        Assert.True(after["dotnet_gc_collections_total{generation=\"0\"}"] > before["dotnet_gc_collections_total{generation=\"0\"}"]);
        Assert.True(after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"] >= 0.25,
            $"{before["process_cpu_seconds_total"]} -> {after["process_cpu_seconds_total"]}");
        Assert.True(after["process_resident_memory_bytes"] > 16 << 20);
    }

    private static Dictionary<string, double> Values(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)$")]
    private static partial Regex SampleLine();
}

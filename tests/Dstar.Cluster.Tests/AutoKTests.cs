using Dstar.Engine.Recording;

namespace Dstar.Cluster.Tests;

/// <summary><c>k: auto</c> on a real cluster, where arrival times are measured on the server's clock.</summary>
[Trait("Category", "Cluster")]
public class AutoKTests
{
    [Fact]
    public async Task Auto_k_stops_waiting_for_two_workers_ten_times_slower_than_the_rest()
    {
        // Workers 4 and 5 sleep 10× longer than the others (shifted-exp speeds), scaled to a tenth of a second (wide enough that a busy machine's scheduling delays do not blur the two groups).
        var yaml = ClusterFixture.Yaml(workers: 6, k: 6, rounds: 10, extra: "delay: shifted-exp shift=1 rate=1 speeds=1,1,1,1,10,10\n")
            .Replace("\nk: 6\n", "\nk: auto\n", StringComparison.Ordinal);
        using var fixture = new ClusterFixture(yaml);
        var directory = Path.Combine(fixture.Directory, "run");
        using (var launch = DstarProcess.Start(["launch", "--config", fixture.ConfigPath, "--out", directory, "--delay-scale", "0.1", "--compute-ms", "5"]))
        {
            Assert.True(await launch.WaitAsync(TimeSpan.FromSeconds(180)) == 0, launch.Output);
        }

        var rows = MetricsFiles.Read(directory, long.MaxValue);
        Assert.Equal(10, rows.Count);
        Assert.Equal(3, rows[0].K);
        Assert.Contains("start", rows[0].KReason);
        Assert.All(rows, r => Assert.False(string.IsNullOrEmpty(r.KReason)));
        Assert.All(rows, r => Assert.Equal(r.K, r.Accepted.Count));

        // Once a round has shown the two slow workers (measured T(6) is several times T(4)), the early rounds, whose
        // gradients are clean (small φ̂), do without them. (Later, as φ̂ grows, 1 − φ̂/k favours k = 6 again.)
        var later = rows.Skip(1).ToArray();
        Assert.True(later.Count(r => r.K <= 4) >= later.Length * 2 / 3, string.Join(", ", rows.Select(r => $"{r.K}: {r.KReason}")));
    }
}

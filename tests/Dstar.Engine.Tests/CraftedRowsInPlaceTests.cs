using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Engine.Simulation;
using Xunit;

namespace Dstar.Engine.Tests;

/// <summary>
/// With fast Byzantine workers the simulator lets the attack write straight into the collector's batch (no copy).
/// A run must give the same metrics and parameters as one where the crafted rows are copied, including when some
/// crafted rows are non-finite and dropped, so that later rows move up.
/// </summary>
public class CraftedRowsInPlaceTests
{
    /// <summary>Sign flip of the honest mean, except that the rows in <paramref name="poisoned"/> hold NaN.</summary>
    private sealed class PartlyNonFinite(params int[] poisoned) : IAttack
    {
        public string Name => "partly-non-finite";

        public bool IsOmniscient => true;

        public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
        {
            for (int b = 0; b < byzantine.Count; b++)
            {
                var row = byzantine.Row(b);
                row.Clear();
                for (int i = 0; i < honest.Count; i++)
                {
                    var h = honest.Row(i);
                    for (int j = 0; j < row.Length; j++)
                    {
                        row[j] -= h[j] * (1 + b) / honest.Count;
                    }
                }

                if (Array.IndexOf(poisoned, b) >= 0)
                {
                    row[row.Length / 2] = float.NaN;
                }
            }
        }
    }

    private static async Task<(string[] Metrics, float[] Parameters)> Run(IAttack attack, bool inPlace)
    {
        var config = Scenarios.Logistic(workers: 10, k: 8, rounds: 15) with { Byzantine = 3, Attack = "alie", AttackTiming = "fast", Delay = "shifted-exp shift=1 rate=1" };
        using var sim = new Simulator(config, overrides: new SimulatorOverrides { Attack = attack });
        if (!inPlace)
        {
            sim.Transport.Collector = null;
        }

        var directory = Scenarios.TemporaryDirectory();
        await sim.RunAsync(directory, plots: false);
        return (Scenarios.MetricsWithoutWallTime(directory), sim.Server.Parameters.ToArray());
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 0, 2 })]
    public async Task Crafted_rows_written_in_place_give_the_same_run_as_copied_ones(int[] poisoned)
    {
        var direct = await Run(new PartlyNonFinite(poisoned), inPlace: true);
        var copied = await Run(new PartlyNonFinite(poisoned), inPlace: false);

        Assert.Equal(copied.Metrics, direct.Metrics);
        Assert.Equal(copied.Parameters, direct.Parameters);
        Assert.Equal(15, direct.Metrics.Length);
        if (poisoned.Length > 0)
        {
            Assert.All(direct.Metrics, line => Assert.Contains("\"reason\":\"malformed\"", line));
        }
    }
}

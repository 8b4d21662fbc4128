using Dstar.Core.Specs;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Simulation;
using Xunit;

namespace Dstar.Engine.Tests.Server;

public class AutoKRunTests
{
    private static ExperimentConfig Auto(string delay, int rounds = 30) =>
        Scenarios.Logistic(workers: 12, rounds: rounds) with { AutoK = true, Delay = delay };

    private static async Task<IReadOnlyList<RoundRecord>> RunAsync(ExperimentConfig config)
    {
        var directory = Scenarios.TemporaryDirectory();
        using var sim = new Simulator(config);
        await sim.RunAsync(directory, plots: false);
        return MetricsFiles.Read(directory, long.MaxValue);
    }

    [Fact]
    public async Task Auto_k_records_each_rounds_k_and_reason_and_waits_for_that_many()
    {
        var rows = await RunAsync(Auto("pareto xm=1 alpha=1.5"));
        Assert.Equal(6, rows[0].K);
        Assert.Contains("start", rows[0].KReason);
        foreach (var row in rows)
        {
            Assert.InRange(row.K, 1, 12);
            Assert.Equal(row.K, row.Accepted.Count);
            Assert.False(string.IsNullOrEmpty(row.KReason));
        }

        // Heavy tails and a well-conditioned problem: the policy leaves k = N once it has seen the tail.
        Assert.True(rows.Skip(5).Average(r => r.K) < 12, string.Join(",", rows.Select(r => r.K)));
    }

    [Fact]
    public async Task Auto_k_keeps_k_max_under_constant_delays()
    {
        var rows = await RunAsync(Auto("constant time=1", rounds: 12) with { KMax = 10 });
        Assert.Equal(6, rows[0].K);
        Assert.All(rows.Skip(1), r => Assert.Equal(10, r.K));
    }

    [Fact]
    public async Task Auto_k_never_waits_for_persistent_stragglers_not_even_in_its_first_round()
    {
        // Of 20 workers, those in bimodal's persistent slow set answer at 10 s, the others at 1 s.
        var rows = await RunAsync(Auto("bimodal p=0.1 slowdown=10", rounds: 25) with { Workers = 20 });
        var bimodal = new Dstar.Core.Stragglers.Bimodal(0.1, 10, 1, persistent: true, seed: 0);
        int slow = Enumerable.Range(0, 20).Count(bimodal.IsPersistentlySlow);
        Assert.InRange(slow, 1, 10);
        Assert.All(rows, r => Assert.Equal(1.0, r.RoundTime));
        Assert.Equal(20 - slow, rows[^1].K);
    }

    [Fact]
    public async Task Auto_k_is_deterministic()
    {
        var a = await RunAsync(Auto("lognormal mu=0 sigma=1", rounds: 15));
        var b = await RunAsync(Auto("lognormal mu=0 sigma=1", rounds: 15));
        Assert.Equal(a.Select(r => (r.K, r.KReason, r.VirtualTime)), b.Select(r => (r.K, r.KReason, r.VirtualTime)));
    }

    [Fact]
    public async Task Auto_k_with_fast_Byzantine_workers_never_goes_below_three_f()
    {
        var config = Auto("pareto xm=1 alpha=1.5", rounds: 25) with { Aggregator = "dstar", Byzantine = 3, Attack = "ipm epsilon=100" };
        var rows = await RunAsync(config);
        Assert.All(rows, r => Assert.True(r.K >= 9, $"round {r.Round}: k = {r.K}"));
    }

    [Fact]
    public void Auto_k_config_round_trips_and_bad_bounds_are_refused_by_name()
    {
        var (config, errors) = ConfigLoader.Bind("k: auto\nk_min: 3\nk_max: 15\nworkers: 20\n", []);
        Assert.Empty(errors);
        Assert.True(config.AutoK);
        Assert.Equal(15, config.KCapacity);
        Assert.Contains("k: auto", ConfigLoader.ToYaml(config));
        var (again, _) = ConfigLoader.Bind(ConfigLoader.ToYaml(config), []);
        Assert.Equal(config with { Pre = again.Pre }, again);

        var (fixedK, _) = ConfigLoader.Bind("k: 5\nk_max: 8\n", []);
        Assert.Contains(ConfigValidator.Validate(fixedK), e => e.Key == "k_max" && e.Problem.Contains("k: auto"));

        var krum = Auto("constant") with { Aggregator = "krum", Byzantine = 3, Attack = "sign-flip", KMin = 4 };
        Assert.Contains(ConfigValidator.Validate(krum), e => e.Key == "k_min" && e.Problem.Contains("≥ 9"));

        var tooTight = Auto("constant") with { Aggregator = "dstar", Byzantine = 3, Attack = "sign-flip", KMax = 8 };
        Assert.Contains(ConfigValidator.Validate(tooTight), e => e.Key == "aggregator" && e.Problem.Contains("above k_max = 8"));

        var (bad, badErrors) = ConfigLoader.Bind("k: fast\n", []);
        Assert.Contains(badErrors, e => e.Key == "k" && e.Problem.Contains("auto"));
    }
}

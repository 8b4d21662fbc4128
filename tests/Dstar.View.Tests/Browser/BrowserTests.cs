using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Simulation;
using Dstar.View.Board;
using Dstar.View.Directories;
using Dstar.View.Server;
using Xunit.Abstractions;

namespace Dstar.View.Tests.Browser;

/// <summary>
/// The page in a real browser (Debian's chromium, headless). Skipped with a reason when chromium is not installed;
/// .ci/run installs it. Screenshots go to bin/.../screenshots/.
/// </summary>
[Trait("Category", "Browser")]
public class BrowserTests(ITestOutputHelper log)
{
    // A short simulation with 4 fast Byzantine workers sending IPM that dSTAR filters out.
    private const string Scenario = """
        seed: 5
        rounds: 160
        eval_every: 10
        data:
          name: synthetic-logistic
          samples: 2000
          features: 10
          validation_size: 200
        model: logreg
        workers: 12
        k: 9
        byzantine: 3
        attack: ipm epsilon=100
        attack_timing: fast
        aggregator: dstar
        delay: shifted-exp shift=1 rate=1
        lr: 0.5
        batch_size: 16
        checkpoint_every: 0
        """;

    private static string Screenshots => Path.Combine(AppContext.BaseDirectory, "screenshots");

    [SkippableFact]
    public async Task Live_page_loads_without_errors_and_follows_a_simulation()
    {
        var executable = Chromium.Executable();
        Skip.If(executable is null, "chromium is not installed (apt-get install chromium)");
        var board = new ViewBoard();
        var viewRun = board.Add("simulate");
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve(), "dstar simulate");
        await using var browser = await Chromium.StartAsync(executable!);
        await browser.NavigateAsync(server.Address.ToString());
        await browser.WaitUntilAsync("document.querySelector('#runs tbody tr[data-run=\"0\"] .round-count')", TimeSpan.FromSeconds(20));
        Assert.Equal("0", (string?)await browser.EvaluateAsync("document.querySelector('#runs tbody tr[data-run=\"0\"] .round-count').textContent"));

        // The run is paced (a sink that sleeps) so that the page can be watched while it runs.
        using var simulator = new Simulator(ConfigLoader.Load(Scenario), "simulate");
        viewRun.MeasurePhases(new SimulatorPhases(simulator));
        var run = Task.Run(() => simulator.RunAsync(null, [viewRun, new Pace(TimeSpan.FromMilliseconds(25))], plots: false));
        const string counter = "parseInt(document.querySelector('#runs tbody tr[data-run=\"0\"] .round-count').textContent)";
        await browser.WaitUntilAsync(counter + " > 5", TimeSpan.FromSeconds(60));
        int first = (int)(await browser.EvaluateAsync(counter))!.GetValue<double>();
        await Task.Delay(1500);
        int second = (int)(await browser.EvaluateAsync(counter))!.GetValue<double>();
        log.WriteLine($"round counter {first} -> {second}");
        Assert.True(second > first, $"the round counter did not advance: {first} then {second}");
        Assert.False(run.IsCompleted, "the run ended before the page could be watched; pace it more slowly");
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "live-simulate-running.png"));

        var summary = await run;
        Assert.NotNull(summary);
        await browser.WaitUntilAsync("document.querySelector('#runs tbody tr[data-run=\"0\"] .state').textContent === 'finished'", TimeSpan.FromSeconds(20));
        Assert.Equal("160 / 160", (string?)await browser.EvaluateAsync("document.querySelector('#runs tbody tr[data-run=\"0\"] .round-count').textContent"));

        // Workers 9, 10 and 11 are Byzantine: the strip marks them, and shows their gradients left out by the rule.
        Assert.Equal(3, (await browser.EvaluateAsync("document.querySelectorAll('#strip .strip-row[data-byzantine=\"true\"]').length"))!.GetValue<double>());
        var filteredByzantine = (await browser.EvaluateAsync("document.querySelectorAll('#strip .strip-row[data-byzantine=\"true\"] .cell[data-status=\"filtered\"]').length"))!.GetValue<double>();
        Assert.True(filteredByzantine > 0, "no filtered cell in a Byzantine worker's row of the strip");
        var byzantineRow = (string?)await browser.EvaluateAsync("document.querySelector('#strip .strip-row[data-worker=\"11\"]').dataset.byzantine");
        Assert.Equal("true", byzantineRow);
        Assert.Equal(4, (await browser.EvaluateAsync("document.querySelectorAll('#charts .uplot').length"))!.GetValue<double>());

        // Round time and where it went: the simulator's measured parts, as a table and as stacked bars.
        var parts = (await browser.EvaluateAsync("[...document.querySelectorAll('#phase-totals tbody tr')].map(r => r.dataset.phase)"))!.AsArray().Select(n => n!.GetValue<string>());
        Assert.Equal(SimulatorPhases.Names, parts);
        Assert.Equal(1, (await browser.EvaluateAsync("document.querySelectorAll('#phases .uplot').length"))!.GetValue<double>());
        var gradientShare = (await browser.EvaluateAsync("document.querySelector('#phase-totals tr[data-phase=\"worker_gradients\"]').cells[3].textContent"))!.GetValue<string>();
        log.WriteLine($"worker gradients' share of the measured round time: {gradientShare}");
        Assert.EndsWith(" %", gradientShare);
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "live-simulate-finished.png"));
        Assert.Empty(browser.Errors);
    }

    [SkippableFact]
    public async Task Breakdown_panel_shows_whatever_parts_a_round_carries()
    {
        var executable = Chromium.Executable();
        Skip.If(executable is null, "chromium is not installed (apt-get install chromium)");
        var board = new ViewBoard();
        var run = board.Add("cluster-like").MeasurePhases(new NamedPhases(["compute", "wire", "wait_for_kth", "validation", "aggregation", "step"]));
        run.Start(Records.Info("cluster-like", workers: 8), 0, []);
        foreach (var r in Records.Random(40, 8, 5))
        {
            run.Record(r);
        }

        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve());
        await using var browser = await Chromium.StartAsync(executable!);
        await browser.NavigateAsync(server.Address.ToString());
        await browser.WaitUntilAsync("document.querySelectorAll('#phase-totals tbody tr').length === 6", TimeSpan.FromSeconds(20));
        var parts = (await browser.EvaluateAsync("[...document.querySelectorAll('#phase-totals tbody tr')].map(r => r.dataset.phase)"))!.AsArray().Select(n => n!.GetValue<string>());
        Assert.Equal(["compute", "wire", "wait_for_kth", "validation", "aggregation", "step"], parts);

        // Each part's total is the sum over the rounds: part i of round t is (i + 1) · (t + 1) ms.
        var total = (await browser.EvaluateAsync("document.querySelector('#phase-totals tr[data-phase=\"wire\"]').cells[1].textContent"))!.GetValue<string>();
        Assert.Equal((2e-3 * Enumerable.Range(1, 40).Sum()).ToString("F3", System.Globalization.CultureInfo.InvariantCulture) + " s", total);

        // The same reading for a row that carries its parts as *_seconds fields or a breakdown object (another host's rows).
        var read = (await browser.EvaluateAsync("JSON.stringify(window.dstarView.phasesOf({round: 0, wall_time: 1, compute_seconds: 0.25, wire_seconds: 0.5, breakdown: {step_seconds: 0.125, wait: 2}, phases: {validation: 0.75}}))"))!.GetValue<string>();
        Assert.Equal("{\"compute\":0.25,\"wire\":0.5,\"step\":0.125,\"wait\":2,\"validation\":0.75}", read);

        // A cluster row's metrics columns (*_s): wait_s is left out, since compute_s, delay_s and wire_s divide it;
        // null columns (a simulated row) are no parts.
        read = (await browser.EvaluateAsync("JSON.stringify(window.dstarView.phasesOf({round: 0, wait_s: 1.3, compute_s: 0.125, delay_s: 0.25, wire_s: 1, validation_s: 0.5, aggregation_s: null, k: 6}))"))!.GetValue<string>();
        Assert.Equal("{\"compute\":0.125,\"delay\":0.25,\"wire\":1,\"validation\":0.5}", read);
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "breakdown-named-parts.png"));
        Assert.Empty(browser.Errors);
    }

    /// <summary>Parts with given names: part i of round t is (i + 1) · (t + 1) milliseconds.</summary>
    private sealed class NamedPhases(string[] names) : IRoundPhaseSource
    {
        public RoundPhases? Next(RoundRecord record, RoundRecord? previous) =>
            new(names, names.Select((_, i) => 1e-3 * (i + 1) * (record.Round + 1)).ToArray());
    }

    [SkippableFact]
    public async Task View_of_a_folder_of_runs_shows_every_run()
    {
        var executable = Chromium.Executable();
        Skip.If(executable is null, "chromium is not installed (apt-get install chromium)");
        using var study = new TempDirectory();
        var baseline = ConfigLoader.Load(Scenario) with { Rounds = 40 };
        var cells = new[] { "aggregator=mean", "aggregator=median", "aggregator=dstar" };
        foreach (var (cell, rule) in cells.Zip(new[] { "mean", "median", "dstar" }))
        {
            using var simulator = new Simulator(baseline with { Aggregator = rule }, cell);
            await simulator.RunAsync(study.Combine("cells", cell), plots: false);
        }

        // A cell whose process was interrupted: rows, no summary.
        Records.WriteRunDirectory(study.Combine("cells", "aggregator=krum"), Records.Random(12, 12, 3), finished: false);
        var board = new ViewBoard();
        _ = new RunDirectories(study.Path, board);
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve(), "dstar view: study");
        await using var browser = await Chromium.StartAsync(executable!);
        await browser.NavigateAsync(server.Address.ToString());
        await browser.WaitUntilAsync("document.querySelectorAll('#runs tbody tr').length === 4", TimeSpan.FromSeconds(20));
        await browser.WaitUntilAsync("document.querySelector('#strip .strip-row')", TimeSpan.FromSeconds(20));
        var rows = (await browser.EvaluateAsync("[...document.querySelectorAll('#runs tbody tr')].map(r => r.cells[0].textContent + '|' + r.cells[1].textContent + '|' + r.cells[2].textContent).join('\\n')"))!.GetValue<string>();
        log.WriteLine(rows);
        Assert.Equal(
            [
                "cells/aggregator=dstar|finished|40 / 40",
                "cells/aggregator=krum|incomplete|12 / 12",
                "cells/aggregator=mean|finished|40 / 40",
                "cells/aggregator=median|finished|40 / 40",
            ],
            rows.Split('\n'));
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "view-study.png"));
        Assert.Empty(browser.Errors);
    }

    [SkippableFact]
    public async Task Page_without_javascript_is_a_readable_table()
    {
        var executable = Chromium.Executable();
        Skip.If(executable is null, "chromium is not installed (apt-get install chromium)");
        var board = new ViewBoard();
        board.Add("finished run").Start(Records.Info("finished run", workers: 8), 0, Records.Random(30, 8, 4));
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve());
        await using var browser = await Chromium.StartAsync(executable!);
        await browser.SendAsync("Emulation.setScriptExecutionDisabled", new System.Text.Json.Nodes.JsonObject { ["value"] = true });
        await browser.NavigateAsync(server.Address.ToString());
        var text = (await browser.EvaluateAsync("document.querySelector('#static table.runs').innerText"))!.GetValue<string>();
        Assert.Contains("finished run", text);
        Assert.Contains("30 / 100", text);
        Assert.Equal(8.0, (await browser.EvaluateAsync("document.querySelectorAll('#static table.workers tbody tr').length"))!.GetValue<double>());
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "no-javascript.png"));
    }

    /// <summary>Slows the run down so a browser can watch it.</summary>
    private sealed class Pace(TimeSpan perRound) : IRunSink
    {
        public void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed)
        {
        }

        public void Record(RoundRecord record) => Thread.Sleep(perRound);

        public void Finish(RunSummary summary)
        {
        }
    }
}

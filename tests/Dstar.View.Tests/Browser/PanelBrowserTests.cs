using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dstar.Studies.Definition;
using Dstar.Studies.Report;
using Dstar.Studies.Sweep;
using Dstar.View.Board;
using Dstar.View.Directories;
using Dstar.View.Server;
using Xunit.Abstractions;

namespace Dstar.View.Tests.Browser;

/// <summary>
/// The study and cluster panels in headless chromium, fed by real processes: experiments/studies/quick.yaml swept by
/// dstar worker processes, then shown again from its directory as <c>dstar view DIR</c> does; and <c>dstar serve
/// --view</c> with a real worker and two refused ones. Screenshots go to bin/.../screenshots/.
/// </summary>
[Trait("Category", "Browser")]
public class PanelBrowserTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    private static string Screenshots => Path.Combine(AppContext.BaseDirectory, "screenshots");

    [SkippableFact]
    public async Task Study_grid_fills_in_during_a_sweep_of_quick_then_shows_the_report_and_so_does_dstar_view_of_its_directory()
    {
        var executable = Chromium.Executable();
        Skip.If(executable is null, "chromium is not installed (apt-get install chromium)");
        using var root = new TempDirectory();
        var plan = StudyPlan.Expand(StudyLoader.LoadFile(RepositoryFile("experiments", "studies", "quick.yaml")));
        var names = plan.Cells.Select(c => c.Name).ToArray();
        int runs = plan.Runs.Count();
        var directory = root.Combine("quick");

        // As dstar sweep --view does it: the grid is on the page before the first run starts.
        var board = new ViewBoard();
        var study = board.ShowStudy(PlanFile.Index(plan), directory);
        study.Refresh();
        await using (var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve(), "dstar sweep: quick"))
        await using (var browser = await Chromium.StartAsync(executable!))
        {
            await browser.NavigateAsync(server.Address.ToString());
            await browser.WaitUntilAsync($"document.querySelectorAll('#study-grid tbody tr').length === {names.Length}", TimeSpan.FromSeconds(30));
            Assert.Equal(names, await Strings(browser, "[...document.querySelectorAll('#study-grid tbody tr')].map(r => r.dataset.name)"));
            Assert.Equal(Enumerable.Repeat("pending", names.Length), await Strings(browser, "[...document.querySelectorAll('#study-grid .cell-state')].map(c => c.textContent)"));

            var (host, dll) = DstarProcess.Command;
            var console = new StringWriter();
            using var cancel = new CancellationTokenSource(Patience);
            var sweep = StudySweep.RunAsync(plan, directory, 2, new WorkerCommand(host, [dll]), new StudyProgress(new SweepConsole(TextWriter.Synchronized(console)), study), cancel.Token);

            // Cells fill in as runs land; the picture is taken while the sweep is still going when the machine allows.
            await browser.WaitUntilAsync("document.querySelectorAll('#study-grid .seed[data-state=\"finished\"]').length >= 1", Patience);
            await browser.ScreenshotAsync(Path.Combine(Screenshots, "study-sweep-running.png"));
            var outcome = await sweep;
            log.WriteLine(console.ToString());
            Assert.Equal((runs, 0), (outcome.Finished, outcome.Failed));
            await browser.WaitUntilAsync($"document.querySelectorAll('#study-grid .seed[data-state=\"finished\"]').length === {runs}", TimeSpan.FromSeconds(30));
            Assert.Equal(Enumerable.Repeat("finished", names.Length), await Strings(browser, "[...document.querySelectorAll('#study-grid .cell-state')].map(c => c.textContent)"));
            await browser.WaitUntilAsync("document.getElementById('report-missing')", TimeSpan.FromSeconds(10));

            // The report: its tables and heatmaps appear, and each cell's accuracy is the report's mean.
            var (results, _) = StudyReport.Write(directory);
            study.Refresh();
            await browser.WaitUntilAsync($"document.querySelectorAll('#report table.report-table').length === {results.Tables.Count}", TimeSpan.FromSeconds(30));
            await browser.WaitUntilAsync("[...document.querySelectorAll('#report img')].length >= 1 && [...document.querySelectorAll('#report img')].every(i => i.complete && i.naturalWidth > 100)", TimeSpan.FromSeconds(30));
            var shown = await Strings(browser, "[...document.querySelectorAll('#study-grid .cell-accuracy')].map(c => c.textContent)");
            Assert.Equal(results.Cells.Select(c => ((100 * c.FinalAccuracy.Mean!.Value).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " %")), shown.Select(s => s.Split(" ±")[0]));
            var worst = await Strings(browser, "[...document.querySelectorAll('#report table.report-table td.worst')].map(c => c.textContent)");
            Assert.Equal(results.Tables.SelectMany(t => t.Rows).Select(r => (100 * r.WorstCase!.Value).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " %"), worst);
            await browser.ScreenshotAsync(Path.Combine(Screenshots, "study-sweep-report.png"));
            Assert.Empty(browser.Errors);
        }

        // dstar view DIR on the finished study: every cell, every run, the report.
        var again = new ViewBoard();
        StudyDirectory.Show(directory, again);
        await using (var server = await ViewServer.StartAsync(again, new ViewOptions("http://127.0.0.1:0").Resolve(), "dstar view: quick"))
        await using (var browser = await Chromium.StartAsync(executable!))
        {
            await browser.NavigateAsync(server.Address.ToString());
            await browser.WaitUntilAsync($"document.querySelectorAll('#study-grid tbody tr').length === {names.Length} && document.querySelectorAll('#runs tbody tr').length === {runs}", TimeSpan.FromSeconds(30));
            Assert.Equal(names, await Strings(browser, "[...document.querySelectorAll('#study-grid tbody tr')].map(r => r.dataset.name)"));
            Assert.Equal(Enumerable.Repeat("finished", names.Length), await Strings(browser, "[...document.querySelectorAll('#study-grid .cell-state')].map(c => c.textContent)"));
            Assert.Equal(plan.Runs.Select(r => r.Name), await Strings(browser, "[...document.querySelectorAll('#runs tbody tr')].map(r => r.cells[0].textContent)"));
            await browser.WaitUntilAsync("[...document.querySelectorAll('#report img')].length >= 1 && [...document.querySelectorAll('#report img')].every(i => i.complete && i.naturalWidth > 100)", TimeSpan.FromSeconds(30));

            // Clicking a cell charts its seeds.
            await browser.EvaluateAsync("document.querySelector('#study-grid tbody tr[data-cell=\"5\"]').click()");
            await browser.WaitUntilAsync("document.querySelector('#run h2') && document.querySelector('#run h2').textContent.startsWith(" + JsonSerializer.Serialize(names[5]) + ")", TimeSpan.FromSeconds(20));
            await browser.ScreenshotAsync(Path.Combine(Screenshots, "view-study-directory.png"));
            Assert.Empty(browser.Errors);
        }
    }

    [SkippableFact]
    public async Task Cluster_panel_shows_connections_and_refused_workers_of_dstar_serve_view()
    {
        var executable = Chromium.Executable();
        Skip.If(executable is null, "chromium is not installed (apt-get install chromium)");
        using var root = new TempDirectory();
        var config = root.Combine("cluster.yaml");
        File.WriteAllText(config, """
            seed: 1
            rounds: 5
            data: {name: synthetic-logistic, samples: 400, features: 5, validation_size: 50}
            model: logreg
            workers: 3
            k: 2
            aggregator: dstar
            checkpoint_every: 0
            """);
        var keys = root.Combine("keys");
        var authorized = new List<string>();
        foreach (var id in new[] { 0, 1, 2 })
        {
            var (exit, output) = await DstarProcess.RunAsync(Patience, "keygen", "--id", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", keys);
            Assert.True(exit == 0, output);
            if (id != 2)
            {
                authorized.Add(output.Split('\n').Single(l => l.StartsWith(id + " ", StringComparison.Ordinal)));
            }
        }

        File.WriteAllLines(root.Combine("authorized_keys"), authorized);
        int port = FreePort();
        var url = $"http://127.0.0.1:{port}";

        // Three workers, k = 2: with one honest worker connected the server waits for a second, and keeps serving.
        using var serve = DstarProcess.Start("serve", "--config", config, "--listen", url, "--insecure", "--authorized-keys", root.Combine("authorized_keys"),
            "--out", root.Combine("run"), "--no-plots", "--view", "http://127.0.0.1:0");
        var view = serve.WaitForLine(@"^view: (http://127\.0\.0\.1:\d+/)", Patience).Groups[1].Value;
        await using var browser = await Chromium.StartAsync(executable!);
        await browser.NavigateAsync(view);
        await browser.WaitUntilAsync("document.querySelectorAll('#cluster-workers tbody tr').length === 3", TimeSpan.FromSeconds(30));
        Assert.Equal(["never connected", "never connected", "never connected"], await Strings(browser, "[...document.querySelectorAll('#cluster-workers .conn-state')].map(c => c.textContent)"));

        using var honest = DstarProcess.Start("work", "--server", url, "--id", "0", "--key", Path.Combine(keys, "worker-0.key"), "--config", config);
        // Worker 1 signing with worker 0's key, and worker 2 whose key is not in the authorized keys: both refused, exit code 4.
        var impostor = await DstarProcess.RunAsync(Patience, "work", "--server", url, "--id", "1", "--key", Path.Combine(keys, "worker-0.key"), "--config", config, "--retry-seconds", "5");
        var stranger = await DstarProcess.RunAsync(Patience, "work", "--server", url, "--id", "2", "--key", Path.Combine(keys, "worker-2.key"), "--config", config, "--retry-seconds", "5");
        Assert.True(impostor.Exit == 4, impostor.Output);
        Assert.True(stranger.Exit == 4, stranger.Output);

        const string Workers = "[...document.querySelectorAll('#cluster-workers .conn-state')].map(c => c.textContent).join(',')";
        await browser.WaitUntilAsync(Workers + " === 'connected,never connected,never connected'", TimeSpan.FromSeconds(60));
        await browser.WaitUntilAsync("document.querySelector('#join-refusals tr[data-reason=\"bad-signature\"] .count')?.textContent === '1' && document.querySelector('#join-refusals tr[data-reason=\"unregistered\"] .count')?.textContent === '1'", TimeSpan.FromSeconds(30));
        var recent = await Strings(browser, "[...document.querySelectorAll('#recent-refusals li')].map(l => l.textContent)");
        log.WriteLine(string.Join('\n', recent));
        Assert.Contains(recent, l => l.Contains("join refused: unregistered (worker 2)", StringComparison.Ordinal));
        Assert.Contains(recent, l => l.Contains("join refused: bad-signature (worker 1)", StringComparison.Ordinal));
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "cluster-refusals.png"));

        // The honest worker goes away: its connection is shown lost, with when it was last seen.
        honest.Kill();
        await browser.WaitUntilAsync(Workers + " === 'disconnected,never connected,never connected'", TimeSpan.FromSeconds(60));
        Assert.EndsWith(" ago", (await browser.EvaluateAsync("document.querySelector('#cluster-workers tbody tr[data-worker=\"0\"]').cells[2].textContent"))!.GetValue<string>());
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "cluster-disconnected.png"));
        Assert.Empty(browser.Errors);
        serve.Kill();
    }

    private static async Task<string[]> Strings(Chromium browser, string expression) =>
        (await browser.EvaluateAsync(expression))!.AsArray().Select(n => n!.GetValue<string>()).ToArray();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string RepositoryFile(params string[] parts)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine([directory.FullName, .. parts]);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(Path.Combine(parts));
    }
}

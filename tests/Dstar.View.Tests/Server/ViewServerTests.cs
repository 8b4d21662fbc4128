using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dstar.View.Board;
using Dstar.View.Server;

namespace Dstar.View.Tests.Server;

public class ViewServerTests
{
    private const string Token = "a-view-token-of-some-length";

    private static readonly string[] Paths =
    [
        "/", "/api/runs", "/api/runs/0", "/api/runs/0/rounds?from=0", "/api/events", "/app.js", "/app.css",
        "/lib/uplot/uPlot.iife.min.js", "/lib/uplot/uPlot.min.css", "/lib/uplot/LICENSE", "/no-such-page",
        "/api/study", "/api/cluster", "/study/report/heatmap-f.png",
    ];

    [Fact]
    public async Task Api_runs_lists_every_run_with_name_state_and_round()
    {
        var board = new ViewBoard();
        var running = board.Add("running one");
        board.Add("waiting one");
        var records = Records.Random(17, workers: 8, seed: 4);
        running.Start(Records.Info("running one"), 0, records);
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve());
        using var client = new HttpClient { BaseAddress = server.Address };

        using var document = JsonDocument.Parse(await client.GetStringAsync("/api/runs"));
        var runs = document.RootElement.GetProperty("runs").EnumerateArray().ToArray();
        Assert.Equal(2, runs.Length);
        Assert.Equal("running one", runs[0].GetProperty("name").GetString());
        Assert.Equal("running", runs[0].GetProperty("state").GetString());
        Assert.Equal(17, runs[0].GetProperty("round").GetInt32());
        Assert.Equal(100, runs[0].GetProperty("rounds").GetInt32());
        Assert.Equal([6, 7], runs[0].GetProperty("byzantine").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("waiting one", runs[1].GetProperty("name").GetString());
        Assert.Equal("waiting", runs[1].GetProperty("state").GetString());
        Assert.Equal(0, runs[1].GetProperty("round").GetInt32());

        using var page = JsonDocument.Parse(await client.GetStringAsync("/api/runs/0/rounds?from=10"));
        Assert.Equal(10, page.RootElement.GetProperty("from").GetInt32());
        Assert.Equal(Enumerable.Range(10, 7), page.RootElement.GetProperty("rounds").EnumerateArray().Select(r => r.GetProperty("round").GetInt32()));

        using var detail = JsonDocument.Parse(await client.GetStringAsync("/api/runs/0"));
        var totals = WorkerTotals.Of(Records.Info(), records);
        var workers = detail.RootElement.GetProperty("worker_totals").EnumerateArray().ToArray();
        Assert.Equal(totals.Select(t => t.Kept), workers.Select(w => w.GetProperty("kept").GetInt64()));
        Assert.Equal(totals.Select(t => t.Late), workers.Select(w => w.GetProperty("late").GetInt64()));
        Assert.Equal(8, detail.RootElement.GetProperty("workers").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/runs/5")).StatusCode);
    }

    [Fact]
    public async Task Wrong_or_missing_token_gets_401_on_every_request()
    {
        var board = new ViewBoard();
        board.Add("run").Start(Records.Info(), 0, Records.Random(3, 8, 1));
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0", Token: Token).Resolve());
        using var client = new HttpClient { BaseAddress = server.Address };
        foreach (var path in Paths)
        {
            foreach (var header in new AuthenticationHeaderValue?[] { null, new("Bearer", "wrong-token-wrong-token"), new("Bearer", Token + "x"), new("Basic", Token) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = header } };
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path} with {header}: {response.StatusCode}");
            }

            using var wrongQuery = await client.GetAsync(path + (path.Contains('?') ? "&" : "?") + "token=wrong-token-wrong-token", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.Unauthorized, wrongQuery.StatusCode);
        }

        using var good = new HttpRequestMessage(HttpMethod.Get, "/api/runs") { Headers = { Authorization = new("Bearer", Token) } };
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(good)).StatusCode);
    }

    [Fact]
    public async Task Token_in_the_address_sets_a_cookie_and_leaves_the_address()
    {
        var board = new ViewBoard();
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0", Token: Token).Resolve());
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = server.Address };

        using var first = await client.GetAsync("/?token=" + Token);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal("/", first.Headers.Location!.OriginalString);
        var cookie = Assert.Single(cookies.GetCookies(server.Address).Cast<Cookie>());
        Assert.True(cookie.HttpOnly);

        using var page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Token, html);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Tls_view_on_every_interface_serves_with_the_token_and_no_key_material()
    {
        using var files = new TempDirectory();
        var (cert, key) = ViewOptionsTests.WritePem(files);
        var board = new ViewBoard();
        board.Add("run").Start(Records.Info(), 0, Records.Random(5, 8, 2));
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("https://0.0.0.0:0", Token: Token, CertificatePath: cert, KeyPath: key).Resolve());
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{server.Address.Port}") };

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
        client.DefaultRequestHeaders.Authorization = new("Bearer", Token);
        var keyText = File.ReadAllText(key);
        var certText = File.ReadAllText(cert);
        foreach (var path in Paths.Where(p => p is not "/api/events" and not "/no-such-page" && !p.Contains("study") && !p.Contains("cluster")))
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(Token, body);
            Assert.DoesNotContain("PRIVATE KEY", body);
            Assert.DoesNotContain(keyText.Split('\n')[1], body);
            Assert.DoesNotContain(certText.Split('\n')[1], body);
        }
    }

    [Fact]
    public async Task Nothing_but_get_and_head_is_answered()
    {
        var board = new ViewBoard();
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve());
        using var client = new HttpClient { BaseAddress = server.Address };
        foreach (var method in new[] { HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, "/api/runs"));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        }
    }

    [Fact]
    public async Task Page_without_javascript_has_a_table_of_runs_and_worker_totals()
    {
        var board = new ViewBoard();
        board.Add("alpha <b>").Start(Records.Info("alpha <b>"), 0, Records.Random(25, 8, 6));
        board.Add("beta");
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve());
        using var client = new HttpClient { BaseAddress = server.Address };
        var html = await client.GetStringAsync("/");
        Assert.Contains("<table class=\"runs\">", html);
        Assert.Contains("<td>alpha &lt;b&gt;</td><td>running</td><td>25 / 100</td>", html);
        Assert.Contains("<td>beta</td><td>waiting</td><td>0</td>", html);
        Assert.Contains("<table class=\"workers\">", html);
        Assert.Contains("http-equiv=\"refresh\"", html);
        Assert.DoesNotContain("alpha <b>", html);
    }

    [Fact]
    public async Task Event_stream_carries_new_rounds_in_order_batched_per_run_and_state_changes()
    {
        var board = new ViewBoard();
        var run = board.Add("run");
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve());
        using var client = new HttpClient { BaseAddress = server.Address };
        using var response = await client.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("retry: 2000", await reader.ReadLineAsync());
        while (board.ListenerCount == 0)
        {
            await Task.Delay(10);
        }

        // A burst of rounds, as a fast run records them: each arrives once, in order, in far fewer events than rounds.
        var records = Records.Random(60, 8, 9);
        run.Start(Records.Info(), 0, []);
        foreach (var r in records)
        {
            run.Record(r);
        }

        var events = new List<(string Name, JsonElement Data)>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        static IEnumerable<int> Rounds(IEnumerable<(string Name, JsonElement Data)> events) => events.Where(e => e.Name == "rounds")
            .SelectMany(e => e.Data.GetProperty("rounds").EnumerateArray().Select(r => r.GetProperty("round").GetInt32()));
        while (Rounds(events).Count() < records.Count || !events.Any(e => e.Name == "run" && e.Data.GetProperty("state").GetString() == "running"))
        {
            var line = await reader.ReadLineAsync(timeout.Token);
            if (line is not null && line.StartsWith("event: ", StringComparison.Ordinal))
            {
                var data = await reader.ReadLineAsync(timeout.Token);
                events.Add((line["event: ".Length..], JsonDocument.Parse(data!["data: ".Length..]).RootElement));
            }
        }

        Assert.Contains(events, e => e.Name == "run" && e.Data.GetProperty("state").GetString() == "running");
        Assert.Equal(records.Select(r => (int)r.Round), Rounds(events));
        Assert.All(events.Where(e => e.Name == "rounds"), e => Assert.Equal(run.Id, e.Data.GetProperty("run").GetInt32()));
        Assert.True(events.Count(e => e.Name == "rounds") < records.Count / 4, $"{events.Count(e => e.Name == "rounds")} rounds events for {records.Count} rounds");
    }

    [Fact]
    public async Task Study_and_cluster_endpoints_answer_404_without_them_and_json_and_events_with_them()
    {
        var board = new ViewBoard();
        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve());
        using var client = new HttpClient { BaseAddress = server.Address };
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/study")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/cluster")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/study/report/heatmap-f.png")).StatusCode);
        using (var runs = JsonDocument.Parse(await client.GetStringAsync("/api/runs")))
        {
            Assert.False(runs.RootElement.GetProperty("study").GetBoolean());
            Assert.False(runs.RootElement.GetProperty("cluster").GetBoolean());
        }

        using var response = await client.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (board.ListenerCount == 0)
        {
            await Task.Delay(10);
        }

        using var root = new TempDirectory();
        var plan = Dstar.Studies.Definition.PlanFile.Index(Dstar.Studies.Definition.StudyPlan.Expand(Dstar.Studies.Definition.StudyLoader.Load(
            "base: {rounds: 5, data: {name: synthetic-logistic, samples: 200, features: 3, validation_size: 20}, model: logreg, workers: 4, k: 3}\ngrid: {aggregator: [mean, median]}\nseeds: [7]\n",
            "s", ".")));
        var study = board.ShowStudy(plan, root.Path);
        study.SweepStarted();
        study.RunStarted(plan.Cells[1].Name, 7);
        var cluster = board.ShowCluster(3);
        cluster.Joined(1, "ipv4:127.0.0.1:50000");
        cluster.JoinRefused("bad-signature", 2, "ipv4:127.0.0.1:50001");
        cluster.GradientRefused("non-finite", 1);

        var events = new Dictionary<string, JsonElement>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!events.TryGetValue("study", out var s) || s.GetProperty("cells").GetArrayLength() == 0
            || !events.TryGetValue("cluster", out var c) || c.GetProperty("gradient_refusals").EnumerateObject().Count() == 0)
        {
            var line = await reader.ReadLineAsync(timeout.Token);
            if (line is not null && line.StartsWith("event: ", StringComparison.Ordinal))
            {
                var data = await reader.ReadLineAsync(timeout.Token);
                events[line["event: ".Length..]] = JsonDocument.Parse(data!["data: ".Length..]).RootElement;
            }
        }

        // The study event carries the cells that changed, not the report.
        var cellEvent = Assert.Single(events["study"].GetProperty("cells").EnumerateArray());
        Assert.Equal(1, cellEvent.GetProperty("index").GetInt32());
        Assert.Equal("running", cellEvent.GetProperty("state").GetString());
        Assert.False(events["study"].TryGetProperty("report", out _));

        using var studyJson = JsonDocument.Parse(await client.GetStringAsync("/api/study"));
        var all = studyJson.RootElement;
        Assert.Equal("running", all.GetProperty("state").GetString());
        Assert.Equal(["mean", "median"], all.GetProperty("cells").EnumerateArray().Select(c => c.GetProperty("rule").GetString()));
        Assert.Equal(1, all.GetProperty("runs").GetProperty("running").GetInt32());
        Assert.Equal(JsonValueKind.Null, all.GetProperty("report").ValueKind);

        using var clusterJson = JsonDocument.Parse(await client.GetStringAsync("/api/cluster"));
        var workers = clusterJson.RootElement.GetProperty("workers").EnumerateArray().ToArray();
        Assert.Equal(["never", "connected", "never"], workers.Select(w => w.GetProperty("state").GetString()));
        Assert.Equal(1, clusterJson.RootElement.GetProperty("join_refusals").GetProperty("bad-signature").GetInt64());
        Assert.Equal(1, clusterJson.RootElement.GetProperty("gradient_refusals").GetProperty("non-finite").GetInt64());
        Assert.Equal(2, clusterJson.RootElement.GetProperty("recent_refusals").GetArrayLength());

        using (var runs = JsonDocument.Parse(await client.GetStringAsync("/api/runs")))
        {
            Assert.True(runs.RootElement.GetProperty("study").GetBoolean());
            Assert.True(runs.RootElement.GetProperty("cluster").GetBoolean());
            Assert.Equal(2, runs.RootElement.GetProperty("runs").GetArrayLength()); // one per cell and seed
        }

        var html = await client.GetStringAsync("/");
        Assert.Contains("<h2>Study s</h2>", html);
        Assert.Contains("<td>connection</td><td>bad-signature</td><td>1</td>", html);
    }

    [Fact]
    public async Task Rounds_endpoint_carries_measured_phases_with_each_row()
    {
        var board = new ViewBoard();
        var run = board.Add("run").MeasurePhases(new FixedPhases());
        run.Start(Records.Info(), 0, []);
        foreach (var r in Records.Random(4, 8, 2))
        {
            run.Record(r);
        }

        await using var server = await ViewServer.StartAsync(board, new ViewOptions("http://127.0.0.1:0").Resolve());
        using var client = new HttpClient { BaseAddress = server.Address };
        using var page = JsonDocument.Parse(await client.GetStringAsync("/api/runs/0/rounds?from=1"));
        var rows = page.RootElement.GetProperty("rounds").EnumerateArray().ToArray();
        Assert.Equal([1.0, 2.0, 3.0], rows.Select(r => r.GetProperty("phases").GetProperty("compute").GetDouble()));
        Assert.Equal([0.5, 0.5, 0.5], rows.Select(r => r.GetProperty("phases").GetProperty("wire").GetDouble()));
    }

    private sealed class FixedPhases : IRoundPhaseSource
    {
        public RoundPhases? Next(Dstar.Engine.Recording.RoundRecord record, Dstar.Engine.Recording.RoundRecord? previous) =>
            new(["compute", "wire"], [record.Round, 0.5]);
    }
}

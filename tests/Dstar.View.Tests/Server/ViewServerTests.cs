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
        foreach (var path in Paths.Where(p => p is not "/api/events" and not "/no-such-page"))
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
    public async Task Event_stream_carries_new_rounds_and_state_changes()
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

        var records = Records.Random(3, 8, 9);
        run.Start(Records.Info(), 0, []);
        foreach (var r in records)
        {
            run.Record(r);
        }

        var events = new List<(string Name, JsonElement Data)>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (events.Count(e => e.Name == "round") < 3 || !events.Any(e => e.Name == "run" && e.Data.GetProperty("state").GetString() == "running"))
        {
            var line = await reader.ReadLineAsync(timeout.Token);
            if (line is not null && line.StartsWith("event: ", StringComparison.Ordinal))
            {
                var data = await reader.ReadLineAsync(timeout.Token);
                events.Add((line["event: ".Length..], JsonDocument.Parse(data!["data: ".Length..]).RootElement));
            }
        }

        Assert.Contains(events, e => e.Name == "run" && e.Data.GetProperty("state").GetString() == "running");
        Assert.Equal([0, 1, 2], events.Where(e => e.Name == "round").Select(e => e.Data.GetProperty("round").GetProperty("round").GetInt32()));
    }
}

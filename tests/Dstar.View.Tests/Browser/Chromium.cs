using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dstar.View.Tests.Browser;

/// <summary>
/// Debian's chromium, headless, driven over the Chrome DevTools protocol with a ClientWebSocket: navigate, evaluate,
/// take screenshots, and collect console errors, uncaught exceptions and failed loads.
/// </summary>
internal sealed class Chromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode?>> _pending = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _receiving;
    private int _nextId;
    private int _port;

    private Chromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>The chromium executable: $DSTAR_CHROMIUM, else chromium or chromium-browser on the PATH, else null.</summary>
    public static string? Executable()
    {
        if (Environment.GetEnvironmentVariable("DSTAR_CHROMIUM") is { Length: > 0 } configured)
        {
            return configured;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(d => new[] { Path.Combine(d, "chromium"), Path.Combine(d, "chromium-browser") })
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Console errors, uncaught exceptions and failed loads seen so far.</summary>
    public IReadOnlyList<string> Errors => _errors.ToArray();

    public static async Task<Chromium> StartAsync(string executable, int width = 1400, int height = 1500)
    {
        var profile = Path.Combine(Path.GetTempPath(), "dstar-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
            "--remote-debugging-port=0", "--user-data-dir=" + profile, $"--window-size={width},{height}", "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var browser = new Chromium(process, profile);
        try
        {
            await browser.ConnectAsync();
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }

        return browser;
    }

    private async Task ConnectAsync()
    {
        // Chromium writes the port it chose into DevToolsActivePort in its profile.
        var portFile = Path.Combine(_profile, "DevToolsActivePort");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(portFile) || new FileInfo(portFile).Length == 0)
        {
            if (_process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException("chromium did not open its DevTools port");
            }

            await Task.Delay(100);
        }

        int port = _port = int.Parse(File.ReadAllLines(portFile)[0]);
        using var http = new HttpClient();
        string? target = null;
        while (target is null)
        {
            var list = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
            target = list.FirstOrDefault(t => t!["type"]?.GetValue<string>() == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
            if (target is null)
            {
                await Task.Delay(100);
            }
        }

        await _socket.ConnectAsync(new Uri(target), CancellationToken.None);
        _receiving = Task.Run(ReceiveAsync);
        await SendAsync("Runtime.enable");
        await SendAsync("Log.enable");
        await SendAsync("Page.enable");
    }

    public async Task<JsonNode?> SendAsync(string method, JsonObject? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        return await reply.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Opens <paramref name="url"/> and waits for the document to load.</summary>
    public async Task NavigateAsync(string url)
    {
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        await WaitUntilAsync("document.readyState === 'complete' && location.href !== 'about:blank'", TimeSpan.FromSeconds(30));
    }

    /// <summary>The value of <paramref name="expression"/> in the page.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var reply = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (reply?["exceptionDetails"] is { } exception)
        {
            throw new InvalidOperationException($"{expression}: {exception.ToJsonString()}");
        }

        return reply?["result"]?["value"];
    }

    /// <summary>Waits until <paramref name="expression"/> is truthy in the page.</summary>
    public async Task WaitUntilAsync(string expression, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await EvaluateAsync($"!!({expression})");
            if (value is not null && value.GetValue<bool>())
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"after {timeout.TotalSeconds} s the page still does not satisfy: {expression}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Saves a PNG of the whole page to <paramref name="path"/>.</summary>
    public async Task ScreenshotAsync(string path)
    {
        var reply = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true });
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(reply!["data"]!.GetValue<string>()));
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var node = JsonNode.Parse(message.ToArray());
                message.SetLength(0);
                if (node?["id"] is { } id && _pending.TryRemove(id.GetValue<int>(), out var reply))
                {
                    if (node["error"] is { } error)
                    {
                        reply.SetException(new InvalidOperationException(error.ToJsonString()));
                    }
                    else
                    {
                        reply.SetResult(node["result"]);
                    }
                }
                else
                {
                    Observe(node);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
    }

    private void Observe(JsonNode? node)
    {
        var method = node?["method"]?.GetValue<string>();
        var p = node?["params"];
        var type = p?["type"]?.GetValue<string>();
        var level = p?["entry"]?["level"]?.GetValue<string>();
        if (method == "Runtime.consoleAPICalled" && type is "error" or "assert")
        {
            _errors.Enqueue("console: " + p!["args"]!.ToJsonString());
        }
        else if (method == "Runtime.exceptionThrown")
        {
            _errors.Enqueue("exception: " + p!["exceptionDetails"]!.ToJsonString());
        }
        else if (method == "Log.entryAdded" && level == "error")
        {
            _errors.Enqueue("log: " + p!["entry"]!.ToJsonString());
        }
    }

    // Browser.close on the browser's own DevTools endpoint (the page's, which the tests use, cannot close the browser).
    private async Task CloseAsync()
    {
        using var http = new HttpClient();
        var version = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{_port}/json/version"))!;
        using var browser = new ClientWebSocket();
        await browser.ConnectAsync(new Uri(version["webSocketDebuggerUrl"]!.GetValue<string>()), CancellationToken.None);
        var close = new JsonObject { ["id"] = 1, ["method"] = "Browser.close" };
        await browser.SendAsync(Encoding.UTF8.GetBytes(close.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            // Asked to close, chromium removes the /tmp/org.chromium.Chromium.* folder of its singleton socket, which
            // a kill (SIGKILL or SIGTERM) leaves behind on every test run.
            if (!_process.HasExited && _port > 0)
            {
                await CloseAsync().WaitAsync(TimeSpan.FromSeconds(5));
                await Task.WhenAny(_process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(5)));
            }
        }
        catch (Exception e) when (e is TimeoutException or HttpRequestException or WebSocketException or IOException)
        {
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
        }

        if (_receiving is not null)
        {
            await Task.WhenAny(_receiving, Task.Delay(2000));
        }

        _socket.Dispose();
        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Dstar.Engine.Recording;
using Dstar.View.Board;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dstar.View.Server;

/// <summary>
/// The view's web server (Kestrel, HTTP/1.1): the page, its script and uPlot, the JSON endpoints and the event stream
/// (docs/view.md). Read-only: only GET and HEAD are answered. With a token, every request must carry it (401
/// otherwise). It serves a <see cref="ViewBoard"/> on the thread pool, so the run's own thread only ever hands
/// updates to bounded queues.
/// </summary>
public sealed class ViewServer : IAsyncDisposable
{
    /// <summary>Event-stream connections served at once; more get 503.</summary>
    public const int MaxListeners = 32;

    /// <summary>Rounds per <c>/api/runs/{id}/rounds</c> answer at most.</summary>
    public const int RoundsPerPage = 5000;

    // An event stream writes at most this often; updates in between go out together.
    private static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    private readonly WebApplication _app;
    private readonly ViewBoard _board;
    private readonly string _title;

    private ViewServer(WebApplication app, ViewBoard board, string title, Uri address)
    {
        _app = app;
        _board = board;
        _title = title;
        Address = address;
    }

    /// <summary>The address the view answers on (the port resolved when 0 was asked).</summary>
    public Uri Address { get; }

    /// <summary>Starts serving <paramref name="board"/> at <paramref name="endpoint"/>.</summary>
    /// <exception cref="IOException">the address cannot be bound (in use, not an address of this host); the message names it.</exception>
    public static async Task<ViewServer> StartAsync(ViewBoard board, ViewEndpoint endpoint, string title = "dstar view", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(board);
        ArgumentNullException.ThrowIfNull(endpoint);
        // The empty builder: no configuration files (the default builders load appsettings.json from the working
        // directory and watch that directory tree for changes, a thread woken by every file the run writes there), no
        // logging, no host filtering; only Kestrel and routing, which is all the view uses.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        if (endpoint.Certificate is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.Services.AddRoutingCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var uri = endpoint.Uri;
            void Configure(ListenOptions listen)
            {
                listen.Protocols = HttpProtocols.Http1;
                if (endpoint.Certificate is { } certificate)
                {
                    listen.UseHttps(certificate);
                }
            }

            if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                kestrel.Listen(IPAddress.Loopback, uri.Port, Configure);
            }
            else
            {
                kestrel.Listen(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port, Configure);
            }
        });

        var app = builder.Build();
        ViewServer? server = null;
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                headers.Allow = "GET, HEAD";
                return;
            }

            await next(context);
        });
        if (endpoint.Token is { } token)
        {
            var gate = new TokenGate(token);
            app.Use(gate.InvokeAsync);
        }

        app.MapGet("/", () => Results.Text(PageHtml.Render(board, server!._title), "text/html; charset=utf-8", Encoding.UTF8));
        app.MapGet("/api/runs", () => Json(ViewJson.Runs(board)));
        app.MapGet("/api/runs/{id:int}", (int id) => board.Find(id) is { } run ? Json(ViewJson.Run(run)) : NotFound(id));
        app.MapGet("/api/runs/{id:int}/rounds", (int id, int? from) =>
        {
            if (board.Find(id) is not { } run)
            {
                return NotFound(id);
            }

            int start = Math.Max(0, from ?? 0);
            var (records, phases) = run.Rows(start, RoundsPerPage);
            return Json(ViewJson.Rounds(run, start, records, phases));
        });
        app.MapGet("/api/study", () => board.Study is { } study
            ? Json(StudyJson.Study(study))
            : Results.Json(new Dictionary<string, string> { ["error"] = "this view shows no study (dstar sweep --view, or dstar view of a study directory)" }, statusCode: StatusCodes.Status404NotFound));
        app.MapGet("/study/report/{**path}", (string? path) => board.Study?.ReportImage(path ?? "") is { } file && File.Exists(file)
            ? Results.File(File.ReadAllBytes(file), "image/png")
            : Results.Text($"404: the report has no image '{path}'\n", "text/plain; charset=utf-8", Encoding.UTF8, StatusCodes.Status404NotFound));
        app.MapGet("/api/cluster", () => board.Cluster is { } cluster
            ? Json(ClusterJson.Cluster(cluster))
            : Results.Json(new Dictionary<string, string> { ["error"] = "this view shows no cluster (dstar serve --view, dstar launch --view)" }, statusCode: StatusCodes.Status404NotFound));
        app.MapGet("/api/events", (HttpContext context) => server!.EventsAsync(context));
        app.MapGet("/{**path}", (string? path) => StaticFiles.TryGet("/" + path, out var content, out var type)
            ? Results.Bytes(content, type)
            : Results.Text($"404: no such page '/{path}'\n", "text/plain; charset=utf-8", Encoding.UTF8, StatusCodes.Status404NotFound));

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"the view cannot listen on {endpoint.Uri.GetLeftPart(UriPartial.Authority)}: {e.Message}", e);
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var address = new UriBuilder(bound) { Host = endpoint.Uri.Host }.Uri;
        server = new ViewServer(app, board, title, address);
        return server;
    }

    /// <summary>Stops listening; open event streams end.</summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static IResult Json(byte[] body) => Results.Bytes(body, "application/json; charset=utf-8");

    private static IResult NotFound(int id) => Results.Json(new Dictionary<string, string> { ["error"] = $"no run with id {id}" }, statusCode: StatusCodes.Status404NotFound);

    /// <summary>
    /// <c>GET /api/events</c>: server-sent events. <c>run</c> carries a run's line when its state changes, <c>rounds</c>
    /// a run's new rounds since the last batch, <c>resync</c> says updates were dropped for this browser (re-read <c>/api/runs</c> and the rounds).
    /// </summary>
    private async Task EventsAsync(HttpContext context)
    {
        if (_board.ListenerCount >= MaxListeners)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync($"503: at most {MaxListeners} event streams at once\n").ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        // The stream ends when the browser goes away or the server stops (so stopping never waits on an open page).
        using var streaming = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _app.Lifetime.ApplicationStopping);
        var aborted = streaming.Token;
        using var listener = _board.Listen();
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using var json = new Utf8JsonWriter(buffer);
        Append(buffer, "retry: 2000\n\n");
        try
        {
            await response.Body.WriteAsync(buffer.WrittenMemory, aborted).ConfigureAwait(false);
            buffer.ResetWrittenCount();
            var changed = new List<ViewRun>();
            var rounds = new List<(ViewRun Run, List<(RoundRecord Round, RoundPhases? Phases)> Rows)>();
            var cells = new SortedSet<int>();
            while (!aborted.IsCancellationRequested)
            {
                bool more;
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted))
                {
                    wait.CancelAfter(Heartbeat);
                    try
                    {
                        more = await listener.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                    {
                        await response.Body.WriteAsync(": keep-alive\n\n"u8.ToArray(), aborted).ConfigureAwait(false);
                        continue;
                    }
                }

                if (!more)
                {
                    break;
                }

                changed.Clear();
                rounds.Clear();
                cells.Clear();
                bool study = false, cluster = false;
                while (listener.Reader.TryRead(out var update))
                {
                    switch (update.Panel)
                    {
                        case ViewPanel.Study:
                            study = true;
                            if (update.Cell >= 0)
                            {
                                cells.Add(update.Cell);
                            }

                            break;
                        case ViewPanel.Cluster:
                            cluster = true;
                            break;
                        default:
                            if (update.Run is not { } run)
                            {
                                break;
                            }

                            if (update.Round is { } round)
                            {
                                // One event per run and batch, its new rounds in order: a browser (or script) parses
                                // at most ten events a second however fast the run goes.
                                int at = rounds.FindIndex(r => ReferenceEquals(r.Run, run));
                                if (at < 0)
                                {
                                    rounds.Add((run, new()));
                                    at = rounds.Count - 1;
                                }

                                rounds[at].Rows.Add((round, update.Phases));
                            }
                            else if (!changed.Contains(run))
                            {
                                changed.Add(run);
                            }

                            break;
                    }
                }

                foreach (var (run, rows) in rounds)
                {
                    Event(buffer, json, "rounds", w => ViewJson.RoundsEvent(w, run, rows));
                }

                foreach (var run in changed)
                {
                    Event(buffer, json, "run", w => ViewJson.RunLine(w, run.Snapshot()));
                }

                if (study && _board.Study is { } studyView)
                {
                    Event(buffer, json, "study", w => StudyJson.Write(w, studyView.Header([.. cells]), includeReport: false));
                }

                if (cluster && _board.Cluster is { } clusterView)
                {
                    Event(buffer, json, "cluster", w => ClusterJson.Write(w, clusterView.Snapshot()));
                }

                if (listener.TakeMissed() is > 0 and var missed)
                {
                    Append(buffer, "event: resync\ndata: {\"missed\":" + missed.ToString(CultureInfo.InvariantCulture) + "}\n\n");
                }

                await response.Body.WriteAsync(buffer.WrittenMemory, aborted).ConfigureAwait(false);
                await response.Body.FlushAsync(aborted).ConfigureAwait(false);
                buffer.ResetWrittenCount();
                await Task.Delay(BatchInterval, aborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The browser went away or the server is stopping.
        }
        catch (IOException)
        {
            // The connection broke.
        }
    }

    private static void Event(ArrayBufferWriter<byte> buffer, Utf8JsonWriter json, string name, Action<Utf8JsonWriter> body)
    {
        Append(buffer, "event: " + name + "\ndata: ");
        json.Reset(buffer);
        body(json);
        json.Flush();
        Append(buffer, "\n\n");
    }

    private static void Append(ArrayBufferWriter<byte> buffer, string text) => buffer.Write(Encoding.UTF8.GetBytes(text));
}

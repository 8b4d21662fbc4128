using System.CommandLine;
using Dstar.View;
using Dstar.View.Board;
using Dstar.View.Directories;
using Dstar.View.Server;

namespace Dstar.Cli.Commands;

/// <summary>
/// <c>dstar view DIR</c>: serves the live page for finished (or still-being-written) run directories: one run
/// directory, or a folder of them (the demo's output, a study). Also the <c>--view [URL]</c> options that
/// <c>simulate</c> and <c>demo</c> share (docs/view.md).
/// </summary>
public static class ViewCommand
{
    /// <summary>How often <c>dstar view</c> looks for new rows and new run directories.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);

    /// <summary>Builds the <c>view</c> command.</summary>
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "a run directory (metrics.jsonl, summary.json, config.yaml), a folder of run directories (the demo's --out), or a study's output directory (plan.json: the grid, its runs and its report)" };
        var url = new Option<string>("--url") { Description = "where to listen; a non-loopback address needs https with --view-cert/--view-key and a token", DefaultValueFactory = _ => ViewOptions.DefaultUrl };
        var options = new ViewOptionSet(includeUrl: false);
        var command = new Command("view", "Serve the live web view of run directories, a folder of runs, or a study's output directory, until Ctrl+C.") { directory, url };
        options.AddTo(command);
        command.SetAction((parsed, cancellation) =>
        {
            var configuration = parsed.InvocationConfiguration;
            return RunAsync(parsed.GetValue(directory)!, options.Read(parsed, parsed.GetValue(url)!), configuration.Output, configuration.Error, cancellation);
        });
        return command;
    }

    /// <summary>
    /// Serves <paramref name="directory"/> until <paramref name="cancellation"/>; failures (no such directory, no run in
    /// it, a damaged plan.json, a busy port) print on <paramref name="error"/> and return <see cref="Failures.ExitCodes.Data"/>,
    /// the I/O or data error of the exit-code table (the options were checked before).
    /// </summary>
    public static async Task<int> RunAsync(string directory, ViewOptions options, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        LiveView? view = null;
        try
        {
            var board = new ViewBoard();
            var title = "dstar view: " + Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/'));
            if (StudyDirectory.IsStudy(directory))
            {
                // A study's output directory: its grid, its runs in plan order, and its report.
                var study = StudyDirectory.Show(directory, board);
                view = await LiveView.StartAsync(board, options, title, output, cancellation);
                var s = study.Snapshot();
                output.WriteLine($"dstar view: study {s.Plan.Name} from {directory}: {s.Cells.Count} cells, {s.Finished} of {s.Finished + s.Pending + s.Running + s.Failed + s.Incomplete} runs finished, {(s.Report is null ? "no report yet" : "with its report")}; re-read every {RefreshInterval.TotalSeconds:0} s; Ctrl+C stops");
                await study.WatchAsync(RefreshInterval, cancellation);
                return 0;
            }

            var runs = new RunDirectories(directory, board);
            view = await LiveView.StartAsync(board, options, title, output, cancellation);
            output.WriteLine($"dstar view: {runs.Count} run{(runs.Count == 1 ? "" : "s")} from {directory}; re-read every {RefreshInterval.TotalSeconds:0} s; Ctrl+C stops");
            await runs.WatchAsync(RefreshInterval, cancellation);
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            error.WriteLine($"dstar view: {e.Message.ReplaceLineEndings(" ").Trim()}");
            return Failures.ExitCodes.Data;
        }
        finally
        {
            if (view is not null)
            {
                await view.DisposeAsync();
            }
        }
    }
}

/// <summary>
/// The view options as the commands take them: <c>--view [URL]</c> (on simulate and demo; <c>dstar view</c> has
/// <c>--url</c>), <c>--view-token</c>, <c>--view-token-file</c>, <c>--view-cert</c>, <c>--view-key</c>.
/// </summary>
internal sealed class ViewOptionSet
{
    private readonly Option<string?>? _view;
    private readonly Option<string?> _token = new("--view-token") { Description = "bearer token the view requires on every request (needed off loopback)" };
    private readonly Option<string?> _tokenFile = new("--view-token-file") { Description = "a file whose first line is the view's bearer token" };
    private readonly Option<string?> _cert = new("--view-cert") { Description = "PEM certificate for the view's TLS (needed off loopback)" };
    private readonly Option<string?> _key = new("--view-key") { Description = "PEM private key of --view-cert" };

    public ViewOptionSet(bool includeUrl = true)
        : this(includeUrl ? $"serve a live web view of the run (default {ViewOptions.DefaultUrl}; docs/view.md)" : null)
    {
    }

    /// <summary>The options with <c>--view</c> described as <paramref name="viewDescription"/> (null: no <c>--view</c>, as <c>dstar view</c> has <c>--url</c>).</summary>
    public ViewOptionSet(string? viewDescription)
    {
        if (viewDescription is not null)
        {
            _view = new Option<string?>("--view")
            {
                Description = viewDescription,
                Arity = ArgumentArity.ZeroOrOne,
            };
        }
    }

    public void AddTo(Command command)
    {
        if (_view is not null)
        {
            command.Options.Add(_view);
        }

        command.Options.Add(_token);
        command.Options.Add(_tokenFile);
        command.Options.Add(_cert);
        command.Options.Add(_key);
    }

    /// <summary>The options given, or null when <c>--view</c> was not (the token/TLS options alone do nothing).</summary>
    public ViewOptions? Read(ParseResult parsed)
    {
        if (_view is null || parsed.GetResult(_view) is null)
        {
            if (parsed.GetValue(_token) is not null || parsed.GetValue(_tokenFile) is not null || parsed.GetValue(_cert) is not null || parsed.GetValue(_key) is not null)
            {
                throw new ArgumentException("--view-token, --view-token-file, --view-cert and --view-key need --view");
            }

            return null;
        }

        return Read(parsed, parsed.GetValue(_view) ?? ViewOptions.DefaultUrl);
    }

    /// <summary>
    /// Reads the options as <see cref="Read(ParseResult)"/> does, through the command's one error path: a refusal (a
    /// <c>--view-*</c> option without <c>--view</c>) prints one line on <paramref name="error"/> and its exit code is returned.
    /// </summary>
    /// <returns><see cref="Failures.ExitCodes.Ok"/> with the options in <paramref name="options"/>, else the refusal's exit code.</returns>
    public int Read(ParseResult parsed, string command, TextWriter error, out ViewOptions? options)
    {
        ViewOptions? read = null;
        int code = Failures.CommandRunner.Run(command, error, _ =>
        {
            read = Read(parsed);
            return Failures.ExitCodes.Ok;
        });
        options = read;
        return code;
    }

    public ViewOptions Read(ParseResult parsed, string url) =>
        new(url, parsed.GetValue(_token), parsed.GetValue(_tokenFile), parsed.GetValue(_cert), parsed.GetValue(_key));
}

/// <summary>A board and the server showing it, as a command runs them.</summary>
internal sealed class LiveView : IAsyncDisposable
{
    private LiveView(ViewBoard board, ViewServer server)
    {
        Board = board;
        Server = server;
    }

    public ViewBoard Board { get; }

    public ViewServer Server { get; }

    /// <summary>Checks <paramref name="options"/>, starts serving and prints the address (never the token).</summary>
    public static async Task<LiveView> StartAsync(ViewBoard board, ViewOptions options, string title, TextWriter output, CancellationToken cancellation = default)
    {
        var endpoint = options.Resolve();
        var server = await ViewServer.StartAsync(board, endpoint, title, cancellation);
        output.WriteLine($"view: {server.Address}" + (endpoint.Token is null ? "" : " (open it once as URL?token=TOKEN, or send Authorization: Bearer TOKEN)"));
        return new LiveView(board, server);
    }

    /// <summary>Starts a view for a command run with <c>--view</c>, or returns null without it.</summary>
    public static LiveView? StartIfAsked(ViewOptions? options, string title, TextWriter output) =>
        options is null ? null : StartAsync(new ViewBoard(), options, title, output).GetAwaiter().GetResult();

    /// <summary>
    /// After the runs: when a person is at the terminal (standard input and output are the console), keeps serving
    /// the final state until Ctrl+C; otherwise returns at once and the server stops with the process.
    /// </summary>
    public void HoldIfInteractive(TextWriter output)
    {
        if (!ReferenceEquals(output, Console.Out) || Console.IsInputRedirected || Console.IsOutputRedirected)
        {
            return;
        }

        output.WriteLine($"view: the runs are over; still serving {Server.Address} — press Ctrl+C to stop (or see them later with: dstar view DIR)");
        using var stop = new ManualResetEventSlim();
        ConsoleCancelEventHandler handler = (_, e) =>
        {
            e.Cancel = true;
            stop.Set();
        };
        Console.CancelKeyPress += handler;
        try
        {
            stop.Wait();
        }
        finally
        {
            Console.CancelKeyPress -= handler;
        }
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dstar.Cli.Benchmarks;
using Dstar.Cli.Failures;
using Dstar.Cluster.Benchmarks;
using Dstar.Engine.Transport;
using Spectre.Console;

namespace Dstar.Cli.Commands;

/// <summary>
/// <c>dstar bench aggregators [--n 16] [--d 1000000] [--f 3] [--threads T] [--repeats R] [--warmups W] [--seed S]
/// [--json]</c>: times every rule and pre-aggregator against a streaming read of the same batch (see
/// <see cref="AggregatorBenchmark"/>). Progress goes to standard error; the table or the JSON to standard output.
/// </summary>
public static class BenchCommand
{
    /// <summary>
    /// The ratios the project aims for at n = 16, d = 1,000,000, f = 3, one thread (issue 2); at n ≥ 64 the
    /// median-like rules aim for 3×. Centered clipping's target is per iteration.
    /// </summary>
    private static readonly Dictionary<string, double> Targets = new(StringComparer.Ordinal)
    {
        ["mean"] = 1.2,
        ["median"] = 1.5,
        ["trimmed-mean"] = 1.5,
        ["meamed"] = 1.5,
        ["dstar"] = 2.5,
        ["krum"] = 3,
        ["multi-krum"] = 3,
        ["centered-clipping iterations=1"] = 2.5,
        ["bulyan"] = 5,
        ["nnm"] = 6,
        ["geometric-median"] = 12,
    };

    private static readonly string[] MedianLike = ["median", "trimmed-mean", "meamed"];

    /// <summary>
    /// The most timed calls (or pushes) <c>--repeats</c> asks for: the median of this many is stable to well under a
    /// percent, and a larger count would only keep the machine busy (each call of a 64 MB batch takes milliseconds).
    /// </summary>
    public const int MaxRepeats = 1000;

    /// <summary>The most untimed calls (or pushes) <c>--warmups</c> asks for; the runtime's recompilation settles within a hundred.</summary>
    public const int MaxWarmUps = 1000;

    /// <summary>Builds the <c>bench</c> command with its <c>aggregators</c> subcommand.</summary>
    public static Command Create()
    {
        var rows = new Option<int>("--n") { Description = "rows (gradients) per batch", DefaultValueFactory = _ => 16 };
        var dimension = new Option<int>("--d") { Description = "length of each row", DefaultValueFactory = _ => 1_000_000 };
        var byzantine = new Option<int>("--f") { Description = "f, the assumed Byzantine count", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads")
        {
            Description = "threads for every rule (MaxDegreeOfParallelism) and for the streaming read",
            DefaultValueFactory = _ => 1,
        };
        var repeats = new Option<int>("--repeats") { Description = "timed calls per component (median reported)", DefaultValueFactory = _ => 7 };
        var warmUps = new Option<int>("--warmups") { Description = "untimed calls per component first: enough for the runtime's tiered, profile-guided recompilation of the kernels to finish, as it does in a training run", DefaultValueFactory = _ => 40 };
        var seed = new Option<int>("--seed") { Description = "seed of the random data", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var only = new Option<string[]>("--only")
        {
            Description = "time only these components (repeat the option or separate names by commas), e.g. --only dstar,median; "
                + "names as in the table, such as \"centered-clipping iterations=1\"",
            AllowMultipleArgumentsPerToken = false,
        };

        var aggregators = new Command("aggregators", "Time every rule and pre-aggregator against a streaming read of the same batch.")
        {
            rows, dimension, byzantine, threads, repeats, warmUps, seed, only, json,
        };
        aggregators.SetAction(parsed =>
        {
            var settings = new AggregatorBenchmark.Settings(
                parsed.GetValue(rows),
                parsed.GetValue(dimension),
                parsed.GetValue(byzantine),
                parsed.GetValue(threads),
                parsed.GetValue(repeats),
                parsed.GetValue(warmUps),
                parsed.GetValue(seed),
                (parsed.GetValue(only) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList());
            var configuration = parsed.InvocationConfiguration;
            return Run(settings, parsed.GetValue(json), configuration.Output, configuration.Error);
        });

        return new Command("bench", "Benchmarks.") { aggregators, WireCommand() };
    }

    /// <summary>
    /// <c>bench wire [--d N]... [--tls] [--repeats R] [--warmups W] [--json]</c>: gradient pushes through the cluster's
    /// path (the upload channel) and on the gRPC session stream, against a raw socket pair (see <see cref="WireBenchmark"/>).
    /// </summary>
    private static Command WireCommand()
    {
        var dimensions = new Option<int[]>("--d")
        {
            Description = "gradient length d (repeat for several; default 1000000 and 10000000)",
            AllowMultipleArgumentsPerToken = false,
        };
        var tls = new Option<bool>("--tls") { Description = "TLS on every path: the cluster's (HTTPS and a TLS upload channel), and the raw socket pair as a TLS stream" };
        var repeats = new Option<int>("--repeats") { Description = "timed pushes per path and d (median reported)", DefaultValueFactory = _ => 10 };
        var warmUps = new Option<int>("--warmups") { Description = "untimed pushes per path and d first", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var format = new Option<string>("--wire")
        {
            Description = "gradient encoding on the wire, as the config key wire: float32 | bfloat16 | float16 (the raw pair moves the same bytes)",
            DefaultValueFactory = _ => "float32",
        };
        var wire = new Command("wire",
            "Push gradients from a worker to a server over loopback through the cluster's path (the session's upload channel), as gRPC messages on the session stream, and through a raw TCP socket pair as the baseline.")
        {
            dimensions, tls, format, repeats, warmUps, json,
        };
        wire.SetAction((parsed, cancellation) =>
        {
            var given = parsed.GetValue(dimensions) ?? [];
            var configuration = parsed.InvocationConfiguration;
            return CommandRunner.RunAsync("bench wire", configuration.Error, async _ =>
            {
                var settings = new WireBenchmark.Settings(given.Length == 0 ? [1_000_000, 10_000_000] : given, parsed.GetValue(tls),
                    parsed.GetValue(repeats), parsed.GetValue(warmUps), Wire: ParseWire(parsed.GetValue(format)!));
                return await RunWireAsync(settings, parsed.GetValue(json), configuration.Output, configuration.Error, cancellation).ConfigureAwait(false);
            });
        });
        return wire;
    }

    private static WireFormat ParseWire(string name)
    {
        try
        {
            return WireFormats.Parse(name);
        }
        catch (ArgumentException)
        {
            throw new CommandFailure($"--wire '{name}': valid: {string.Join(", ", WireFormats.Names)}");
        }
    }

    /// <summary>Runs the wire benchmark and prints a table (or JSON); failures print one line and return 1.</summary>
    public static Task<int> RunWireAsync(WireBenchmark.Settings settings, bool json, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        CommandRunner.RunAsync("bench wire", error, async _ =>
        {
            foreach (var d in settings.Dimensions)
            {
                Require(d >= 1 && d <= WireBenchmark.MaxDimension, $"--d must be in 1..{WireBenchmark.MaxDimension}, got {d}");
            }

            RequireCounts(settings.Repeats, settings.WarmUps);
            var loadAverage = AggregatorBenchmark.OneMinuteLoad();
            var runs = await WireBenchmark.RunAsync(settings, line => error.WriteLine(line), cancellationToken).ConfigureAwait(false);
            if (json)
            {
                output.Write(WireJson(settings, runs, loadAverage));
            }
            else
            {
                WireTable(settings, runs, output);
            }

            return 0;
        });

    /// <summary>
    /// <c>{"repeats","warmups","processors","load_average_start","runs":[{"d","tls","wire","bytes","raw_ms","grpc_ms","raw_gbps","grpc_gbps","ratio",
    /// "raw_fastest_ms","grpc_fastest_ms","fastest_ratio","raw_cpu_ms","grpc_cpu_ms","grpc_path","stream_ms","stream_gbps","stream_ratio",
    /// "stream_cpu_ms"}]}</c>; GB/s are 10⁹ bytes of float32 gradient per second, ratio = grpc_gbps / raw_gbps. <c>grpc_*</c> is the
    /// cluster's path, as a worker sends (<c>grpc_path</c>: <c>upload</c>, or <c>stream</c> when the upload channel did not
    /// open); <c>stream_*</c> the same push as a gRPC message on the session stream.
    /// </summary>
    internal static string WireJson(WireBenchmark.Settings settings, IReadOnlyList<WireBenchmark.Run> runs, double? loadAverage)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("repeats", settings.Repeats);
            json.WriteNumber("warmups", settings.WarmUps);
            json.WriteNumber("processors", Environment.ProcessorCount);
            WriteNumber(json, "load_average_start", loadAverage);
            json.WriteStartArray("runs");
            foreach (var run in runs)
            {
                json.WriteStartObject();
                json.WriteNumber("d", run.Dimension);
                json.WriteBoolean("tls", run.Tls);
                json.WriteString("wire", run.Wire.Name());
                json.WriteNumber("bytes", run.Bytes);
                WriteNumber(json, "raw_ms", run.RawSeconds * 1e3);
                WriteNumber(json, "grpc_ms", run.GrpcSeconds * 1e3);
                WriteNumber(json, "raw_gbps", run.RawGigabytesPerSecond);
                WriteNumber(json, "grpc_gbps", run.GrpcGigabytesPerSecond);
                WriteNumber(json, "ratio", run.Ratio);
                WriteNumber(json, "raw_fastest_ms", run.RawFastestSeconds * 1e3);
                WriteNumber(json, "grpc_fastest_ms", run.GrpcFastestSeconds * 1e3);
                WriteNumber(json, "fastest_ratio", run.FastestRatio);
                WriteNumber(json, "raw_cpu_ms", run.RawCpuSeconds * 1e3);
                WriteNumber(json, "grpc_cpu_ms", run.GrpcCpuSeconds * 1e3);
                json.WriteString("grpc_path", run.Uploaded ? "upload" : "stream");
                WriteNumber(json, "stream_ms", run.StreamSeconds * 1e3);
                WriteNumber(json, "stream_gbps", run.StreamGigabytesPerSecond);
                WriteNumber(json, "stream_ratio", run.StreamRatio);
                WriteNumber(json, "stream_cpu_ms", run.StreamCpuSeconds * 1e3);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WireTable(WireBenchmark.Settings settings, IReadOnlyList<WireBenchmark.Run> runs, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        console.Profile.Width = Math.Max(console.Profile.Width, 160);
        console.MarkupLine(Invariant($"[bold]gradient push over loopback[/]{(settings.Tls ? " with TLS" : "")}, {settings.Wire.Name()} on the wire, median of {settings.Repeats} after {settings.WarmUps} warm-up(s)"));
        var table = new Table().AddColumns("d", "MB", "raw ms", "cluster ms", "raw GB/s", "cluster GB/s", "cluster / raw", "fastest cluster / raw",
            "stream GB/s", "stream / raw", "CPU ms raw / cluster / stream");
        foreach (var run in runs)
        {
            table.AddRow(
                Invariant($"{run.Dimension:N0}"),
                Invariant($"{run.Bytes / 1e6:G4}"),
                Invariant($"{run.RawSeconds * 1e3:F2}"),
                Invariant($"{run.GrpcSeconds * 1e3:F2}"),
                Invariant($"{run.RawGigabytesPerSecond:F2}"),
                Invariant($"{run.GrpcGigabytesPerSecond:F2}"),
                Invariant($"{run.Ratio:P0}"),
                Invariant($"{run.FastestRatio:P0}"),
                Invariant($"{run.StreamGigabytesPerSecond:F2}"),
                Invariant($"{run.StreamRatio:P0}"),
                Invariant($"{run.RawCpuSeconds * 1e3:F1} / {run.GrpcCpuSeconds * 1e3:F1} / {run.StreamCpuSeconds * 1e3:F1}"));
        }

        console.Write(table);
        console.MarkupLine("raw = a loopback TCP socket pair (a TLS stream with --tls) moving the same bytes into one array; cluster = the worker's path "
            + "(serve's Kestrel host, an authenticated worker session, " + (runs.All(r => r.Uploaded) ? "its upload channel" : "[yellow]the session stream: the upload channel did not open[/]")
            + ", the transport and the round collector's copy and check); stream = the same as a gRPC message on the session stream. "
            + "GB/s = 10⁹ bytes of float32 gradient per second; fastest = the fastest push of each path; CPU = this process's CPU time per push (both ends).");
    }

    /// <summary>Runs the aggregator benchmark and prints a table (or JSON); failures print one line and return 1.</summary>
    public static int Run(AggregatorBenchmark.Settings settings, bool json, TextWriter output, TextWriter error) =>
        CommandRunner.Run("bench aggregators", error, _ =>
        {
            Validate(settings);
            var result = AggregatorBenchmark.Run(settings, line => error.WriteLine(line));
            if (json)
            {
                output.Write(Json(result));
            }
            else
            {
                Table(result, output);
            }

            return 0;
        });

    private static void Validate(AggregatorBenchmark.Settings s)
    {
        Require(s.Rows >= 1, $"--n must be ≥ 1, got {s.Rows}");
        Require(s.Dimension >= 1, $"--d must be ≥ 1, got {s.Dimension}");
        Require(s.ByzantineCount >= 0, $"--f must be ≥ 0, got {s.ByzantineCount}");
        Require(s.Threads >= 1, $"--threads must be ≥ 1, got {s.Threads}");
        Require(s.Threads <= 4 * Environment.ProcessorCount, $"--threads {s.Threads} is too large: the limit is {4 * Environment.ProcessorCount} (4 per core)");
        RequireCounts(s.Repeats, s.WarmUps);
        var unknown = (s.Only ?? []).Where(name => !AggregatorBenchmark.ComponentNames.Contains(name)).ToList();
        Require(unknown.Count == 0, $"--only: unknown component {string.Join(", ", unknown.Select(u => $"'{u}'"))}; valid: {string.Join(", ", AggregatorBenchmark.ComponentNames)}");
        Require((long)s.Rows * s.Dimension <= Array.MaxLength, $"--n × --d = {(long)s.Rows * s.Dimension} exceeds the largest array ({Array.MaxLength})");
    }

    private static void RequireCounts(int repeats, int warmUps)
    {
        Require(repeats is >= 1 and <= MaxRepeats, $"--repeats must be in 1..{MaxRepeats}, got {repeats}");
        Require(warmUps is >= 0 and <= MaxWarmUps, $"--warmups must be in 0..{MaxWarmUps}, got {warmUps}");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new CommandFailure(message);
        }
    }

    /// <summary>
    /// <c>{"n","d","f","threads","repeats","stream_read_ms","rules":[{"name","kind","ms","ratio","stream_read_ms","skipped"}]}</c>;
    /// a skipped component has null ms and ratio and the reason in <c>skipped</c>.
    /// </summary>
    internal static string Json(AggregatorBenchmark.Result result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            var s = result.Settings;
            json.WriteStartObject();
            json.WriteNumber("n", s.Rows);
            json.WriteNumber("d", s.Dimension);
            json.WriteNumber("f", s.ByzantineCount);
            json.WriteNumber("threads", s.Threads);
            json.WriteNumber("repeats", s.Repeats);
            WriteNumber(json, "stream_read_ms", result.StreamReadMilliseconds);
            WriteNumber(json, "processors", Environment.ProcessorCount);
            WriteNumber(json, "load_average_start", result.LoadAverage?.Start);
            WriteNumber(json, "load_average_end", result.LoadAverage?.End);
            json.WriteStartArray("rules");
            foreach (var t in result.Timings)
            {
                json.WriteStartObject();
                json.WriteString("name", t.Name);
                json.WriteString("kind", t.Kind);
                WriteNumber(json, "ms", t.Milliseconds);
                WriteNumber(json, "ratio", t.Ratio);
                WriteNumber(json, "stream_read_ms", t.StreamReadMilliseconds);
                WriteNumber(json, "fastest_ms", t.FastestMilliseconds);
                WriteNumber(json, "fastest_ratio", t.FastestRatio);
                if (t.Skipped is { } why)
                {
                    json.WriteString("skipped", why);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            // Six significant digits, not four decimals: a small batch's read takes well under 0.1 ms, and fixed
            // decimals left ms / read ms up to 2 % away from the ratio written beside them.
            json.WriteNumber(name, double.Parse(v.ToString("G6", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void Table(AggregatorBenchmark.Result result, TextWriter output)
    {
        var s = result.Settings;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });

        // Redirected output reports a width of 80, which wraps the table; a wider page keeps one row per line.
        console.Profile.Width = Math.Max(console.Profile.Width, 160);
        console.MarkupLine(Invariant(
            $"[bold]n = {s.Rows}, d = {s.Dimension}, f = {s.ByzantineCount}, threads = {s.Threads}[/], median of {s.Repeats} after {s.WarmUps} warm-up(s)"));
        console.MarkupLine(Invariant(
            $"streaming read of {(long)s.Rows * s.Dimension * 4 / 1e6:F1} MB: [bold]{result.StreamReadMilliseconds:F2} ms[/]"));
        if (result.LoadAverage is var (start, end))
        {
            console.MarkupLine(Invariant($"load average (1 min) {start:F2} at the start, {end:F2} at the end, on {Environment.ProcessorCount} processors"));
        }

        var table = new Table().AddColumns("component", "kind", "ms", "read ms", "ratio", "fastest ratio", "target");
        foreach (var t in result.Timings)
        {
            if (t.Skipped is { } why)
            {
                table.AddRow(Markup.Escape(t.Name), t.Kind, "—", "—", "[grey]skipped[/]", "", Markup.Escape(why));
                continue;
            }

            var target = Target(t.Name, s);
            var ratio = t.Ratio!.Value;
            var colour = target is null ? "white" : ratio <= target ? "green" : "red";
            table.AddRow(
                Markup.Escape(t.Name),
                t.Kind,
                Invariant($"{t.Milliseconds:F2}"),
                Invariant($"{t.StreamReadMilliseconds:F2}"),
                Invariant($"[{colour}]{ratio:F2}×[/]"),
                Invariant($"{t.FastestRatio:F2}×"),
                target is null ? "" : Invariant($"≤ {target:0.0}×"));
        }

        console.Write(table);
        console.MarkupLine("ratio = the component's median time / the median of the streaming reads interleaved with it; "
            + "fastest ratio = its fastest call / the fastest of those reads. "
            + "Targets (issue 2) hold for n = 16, one thread; at n ≥ 64 the median-like rules aim for 3×. "
            + "zeno uses a quadratic validation loss ½‖y‖²; centered clipping starts from a previous aggregate.");
    }

    private static double? Target(string name, AggregatorBenchmark.Settings s)
    {
        if (s.Rows >= 64 && MedianLike.Contains(name))
        {
            return 3;
        }

        return s.Rows == 16 && s.Threads == 1 && Targets.TryGetValue(name, out var target) ? target : null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

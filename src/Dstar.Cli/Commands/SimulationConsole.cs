using Dstar.Cli.Output;
using Dstar.Core;
using Dstar.Core.Specs;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Recording;
using Dstar.Engine.Simulation;
using Dstar.Learning.Data;
using Spectre.Console;

namespace Dstar.Cli.Commands;

/// <summary>What <c>simulate</c> and <c>demo</c> share: running a simulator with console progress, and turning failures into messages.</summary>
internal static class SimulationConsole
{
    /// <summary>
    /// Runs <paramref name="simulator"/> into <paramref name="directory"/>: a live Spectre.Console table when the
    /// output is an interactive terminal, otherwise a text line every few rounds on <paramref name="progress"/>
    /// (null: no progress).
    /// </summary>
    public static RunSummary? Run(Simulator simulator, string? directory, bool resume, TextWriter output, TextWriter? progress)
    {
        bool live = progress is not null && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (live)
        {
            var sink = new LiveProgressSink();
            RunSummary? summary = null;
            AnsiConsole.Live(sink.View).AutoClear(false).Start(context =>
            {
                sink.Context = context;
                summary = simulator.RunAsync(directory, [sink], resume).GetAwaiter().GetResult();
            });
            return summary;
        }

        var sinks = progress is null ? Array.Empty<IRunSink>() : [new TextProgressSink(progress, Math.Max(1, simulator.Config.Rounds / 10))];
        return simulator.RunAsync(directory, sinks, resume).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Runs <paramref name="body"/>, printing a failure as <c>dstar COMMAND: message</c> on <paramref name="error"/> and
    /// returning 1; a bad configuration prints every problem on its own line.
    /// </summary>
    public static int Guard(string command, TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ConfigException e)
        {
            error.WriteLine($"dstar {command}: invalid configuration ({e.Errors.Count} problem{(e.Errors.Count == 1 ? "" : "s")}):");
            foreach (var problem in e.Errors)
            {
                error.WriteLine("  " + problem);
            }
        }
        catch (Exception e) when (e is CheckpointException or SpecException or AggregationException or DataFileException
            or ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            error.WriteLine($"dstar {command}: {e.Message.ReplaceLineEndings(" ").Trim()}");
        }

        return 1;
    }
}

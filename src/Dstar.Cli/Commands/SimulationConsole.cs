using Dstar.Cli.Output;
using Dstar.Engine.Recording;
using Dstar.Engine.Simulation;
using Spectre.Console;

namespace Dstar.Cli.Commands;

/// <summary>What <c>simulate</c> and <c>demo</c> share: running a simulator with console progress.</summary>
internal static class SimulationConsole
{
    /// <summary>
    /// Runs <paramref name="simulator"/> into <paramref name="directory"/>: a live Spectre.Console table when the
    /// output is an interactive terminal, otherwise a text line every few rounds on <paramref name="progress"/>
    /// (null: no progress). <paramref name="extra"/> is one more sink (the live view), or null.
    /// </summary>
    public static RunSummary? Run(Simulator simulator, string? directory, bool resume, TextWriter output, TextWriter? progress, IRunSink? extra = null)
    {
        bool live = progress is not null && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (live)
        {
            var sink = new LiveProgressSink();
            RunSummary? summary = null;
            AnsiConsole.Live(sink.View).AutoClear(false).Start(context =>
            {
                sink.Context = context;
                summary = simulator.RunAsync(directory, extra is null ? [sink] : [sink, extra], resume).GetAwaiter().GetResult();
            });
            return summary;
        }

        var sinks = new List<IRunSink>();
        if (progress is not null)
        {
            sinks.Add(new TextProgressSink(progress, Math.Max(1, simulator.Config.Rounds / 10)));
        }

        if (extra is not null)
        {
            sinks.Add(extra);
        }

        return simulator.RunAsync(directory, sinks, resume).GetAwaiter().GetResult();
    }
}

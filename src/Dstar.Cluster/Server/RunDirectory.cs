using System.Text.Json;
using Dstar.Cluster.Configuration;
using Dstar.Engine.Collection;
using Dstar.Engine.Server;

namespace Dstar.Cluster.Server;

/// <summary>
/// The run directory of a cluster run: <c>config.yaml</c> (the effective config), <c>rounds.jsonl</c> (one JSON
/// object per round, appended and flushed as rounds finish so a killed server loses nothing already written) and
/// <c>summary.json</c> and <c>metrics.prom</c> (the final /metrics text) when the run ends.
/// </summary>
public sealed class RunDirectory : IDisposable
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };
    private readonly StreamWriter _rounds;

    /// <summary>Opens (creating) <paramref name="path"/>; appends to an existing rounds file on resume.</summary>
    public RunDirectory(string path, ClusterConfig config)
    {
        Path = path;
        Directory.CreateDirectory(path);
        File.WriteAllText(System.IO.Path.Combine(path, "config.yaml"), config.ToText());
        _rounds = new StreamWriter(System.IO.Path.Combine(path, "rounds.jsonl"), append: true);
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>Appends one round.</summary>
    public void Write(RoundEvent round)
    {
        var line = JsonSerializer.Serialize(new
        {
            round = round.Round,
            round_seconds = round.RoundSeconds,
            wall_seconds = round.WallSeconds,
            accepted = round.AcceptedWorkers,
            kept = round.KeptWorkers,
            filtered = round.FilteredWorkers,
            drops = round.Drops.Select(d => new { worker = d.Worker, reason = d.Reason.Name(), detail = d.Detail }),
            validation_loss = Finite(round.ValidationLoss),
            aggregate_norm = Finite(round.AggregateNorm),
            accuracy = round.Evaluation is { } e ? Finite(e.Accuracy) : null,
            test_loss = round.Evaluation is { } f ? Finite(f.Loss) : null,
            rule = round.Rule,
        }, Options);
        _rounds.WriteLine(line);
        _rounds.Flush();
    }

    /// <summary>Writes <c>summary.json</c>.</summary>
    public void WriteSummary(object summary) =>
        File.WriteAllText(System.IO.Path.Combine(Path, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <inheritdoc />
    public void Dispose() => _rounds.Dispose();

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

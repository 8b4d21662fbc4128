using Dstar.Engine.Collection;
using Dstar.Engine.Recording;

namespace Dstar.View.Tests;

/// <summary>Random but well-formed round records, and the run info they belong to.</summary>
internal static class Records
{
    public static RunInfo Info(string name = "run", int workers = 8, int rounds = 100, string? directory = null) =>
        new(name, directory, workers, rounds, [workers - 2, workers - 1], "test run");

    /// <summary>Rounds 0..count−1 of a run with <paramref name="workers"/> workers: a random k accepted, some filtered, the rest late or stale.</summary>
    public static List<RoundRecord> Random(int count, int workers, int seed)
    {
        var random = new Random(seed);
        var records = new List<RoundRecord>();
        double time = 0;
        for (int t = 0; t < count; t++)
        {
            var order = Enumerable.Range(0, workers).OrderBy(_ => random.Next()).ToArray();
            int k = random.Next(2, workers);
            var accepted = order[..k];
            var filtered = accepted.Where(_ => random.Next(3) == 0).Order().ToArray();
            var kept = accepted.Except(filtered).Order().ToArray();
            var dropped = order[k..].Select(w => (w, random.Next(4) == 0 ? DropReason.Stale : DropReason.Late)).ToArray();
            double roundTime = random.NextDouble() * 3;
            time += roundTime;
            records.Add(new RoundRecord(
                t, time, roundTime, 0.01 * (t + 1), random.NextDouble(),
                t % 5 == 4 ? random.NextDouble() : null, t % 5 == 4 ? random.NextDouble() * 2 : null,
                accepted, kept, filtered, dropped,
                accepted.Count(w => w >= workers - 2), kept.Count(w => w >= workers - 2),
                random.NextDouble() * 10, KeptIsExact: true));
        }

        return records;
    }

    public static RunSummary Summary(string name, long rounds, long? stoppedAt = null) =>
        new(name, 0.9, 0.95, 0.3, rounds, 100, 2, 1, 0.5, 1, 0, 0, 10, new Dictionary<string, long> { ["late"] = 3 }, stoppedAt, stoppedAt is null ? null : "diverged");

    /// <summary>Writes a run directory with the engine's own sinks (metrics.jsonl, metrics.csv, and summary.json when <paramref name="finished"/>).</summary>
    public static void WriteRunDirectory(string directory, IReadOnlyList<RoundRecord> records, bool finished, string? configYaml = null)
    {
        Directory.CreateDirectory(directory);
        if (configYaml is not null)
        {
            File.WriteAllText(Path.Combine(directory, "config.yaml"), configYaml);
        }

        var metrics = new MetricsFiles(directory);
        var summary = new SummaryFile(directory);
        var info = Info(Path.GetFileName(directory), directory: directory);
        metrics.Start(info, 0, []);
        foreach (var r in records)
        {
            metrics.Record(r);
        }

        var s = Summary(info.Name, records.Count);
        metrics.Finish(s);
        if (finished)
        {
            summary.Finish(s);
        }
    }
}

/// <summary>A temporary directory, deleted afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dstar-view-tests-" + Guid.NewGuid().ToString("N"));

    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Engine.Configuration;

namespace Dstar.Engine.Tests;

/// <summary>Small synthetic experiments shared by the simulator tests.</summary>
internal static class Scenarios
{
    public static ExperimentConfig Logistic(int workers = 10, int k = 7, int rounds = 20, string aggregator = "mean") => new()
    {
        Seed = 3,
        Rounds = rounds,
        EvalEvery = 5,
        Data = new DataConfig { Name = "synthetic-logistic", Samples = 3000, Features = 10, ValidationSize = 200 },
        Model = "logreg",
        Workers = workers,
        K = k,
        Aggregator = aggregator,
        Delay = "uniform",
        LearningRate = 0.5,
        BatchSize = 16,
        CheckpointEvery = 0,
    };

    // One folder per test process, removed when the process exits, so that the runs' files do not pile up in /tmp.
    private static readonly Lazy<string> TemporaryRoot = new(() => Dstar.TestSupport.ProcessTemporaryFolder.Create("dstar-engine-tests"));

    public static string TemporaryDirectory()
    {
        var path = Path.Combine(TemporaryRoot.Value, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>metrics.jsonl without its wall_time values.</summary>
    public static string[] MetricsWithoutWallTime(string directory) =>
        File.ReadAllLines(Path.Combine(directory, "metrics.jsonl"))
            .Select(line => System.Text.RegularExpressions.Regex.Replace(line, "\"wall_time\":[^,]*,", ""))
            .ToArray();
}

/// <summary>An omniscient test attack: records how many honest rows it saw and sends −(their mean) (sign flip).</summary>
internal sealed class RecordingSignFlip : IAttack
{
    public List<int> HonestCounts { get; } = new();

    public string Name => "recording-sign-flip";

    public bool IsOmniscient => true;

    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        HonestCounts.Add(honest.Count);
        var mean = new float[honest.Dimension];
        for (int i = 0; i < honest.Count; i++)
        {
            var row = honest.Row(i);
            for (int j = 0; j < mean.Length; j++)
            {
                mean[j] += row[j] / honest.Count;
            }
        }

        for (int b = 0; b < byzantine.Count; b++)
        {
            var row = byzantine.Row(b);
            for (int j = 0; j < mean.Length; j++)
            {
                row[j] = -mean[j];
            }
        }
    }
}

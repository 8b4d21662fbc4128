using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;

namespace Dstar.Engine.Running;

/// <summary>What may change when a run is resumed.</summary>
public static class ResumeRules
{
    /// <summary>
    /// The keys a resume may change: <c>rounds</c> (not below the checkpoint's round), <c>eval_every</c>,
    /// <c>checkpoint_every</c>, <c>threads</c> and <c>simulation.parallel</c>. Every other key changes the run itself and is refused.
    /// </summary>
    public static IReadOnlySet<string> ChangeableKeys { get; } = new HashSet<string>(StringComparer.Ordinal) { "rounds", "eval_every", "checkpoint_every", "threads", "simulation.parallel" };

    /// <summary>Refuses a resume whose config differs from the saved one in a key outside <see cref="ChangeableKeys"/>.</summary>
    /// <exception cref="CheckpointException">the differing keys, each with its saved and its new value.</exception>
    public static void Check(IReadOnlyDictionary<string, string> saved, ExperimentConfig config)
    {
        var current = RunStateFile.Describe(config);
        var differing = current
            .Where(p => !ChangeableKeys.Contains(p.Key) && saved.TryGetValue(p.Key, out var before) && before != p.Value)
            .Select(p => $"{p.Key} ({saved[p.Key]} → {p.Value})")
            .ToArray();
        if (differing.Length > 0)
        {
            throw new CheckpointException(
                $"cannot resume: the config differs from the run's in {string.Join(", ", differing)}; only {string.Join(", ", ChangeableKeys.Order(StringComparer.Ordinal))} may change on resume");
        }
    }

    /// <summary>Refuses <c>rounds</c> below the round the run already reached.</summary>
    /// <exception cref="CheckpointException">rounds is below <paramref name="checkpointRound"/>.</exception>
    public static void CheckRounds(ExperimentConfig config, long checkpointRound)
    {
        if (config.Rounds < checkpointRound)
        {
            throw new CheckpointException($"cannot resume with rounds = {config.Rounds}: the checkpoint is already at round {checkpointRound}; rounds may only stay or grow");
        }
    }
}

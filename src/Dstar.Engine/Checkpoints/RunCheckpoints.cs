using Dstar.Engine.Recording;
using Dstar.Engine.Server;

namespace Dstar.Engine.Checkpoints;

/// <summary>
/// Saving a parameter server's state at the end of a round and resuming from it, with the metrics rows the checkpoint
/// covers: one implementation for the simulator and the gRPC cluster, so both resume the same way.
/// </summary>
public static class RunCheckpoints
{
    /// <summary>
    /// Writes the server's state and that of <paramref name="parts"/> (the run's stateful components, e.g.
    /// <see cref="CheckpointParts.Of(ParameterServer)"/>) to <paramref name="path"/>, atomically, the previous checkpoint kept.
    /// </summary>
    public static void Save(string path, ParameterServer server, int seed, double virtualSeconds, IReadOnlyList<ICheckpointPart>? parts = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        CheckpointFile.Save(path, new Checkpoint(
            server.Version,
            seed,
            virtualSeconds,
            server.Parameters.ToArray(),
            server.Optimizer.Velocity.ToArray(),
            server.Optimizer.HasVelocity,
            server.PreviousAggregate?.ToArray(),
            (parts ?? []).Select(p => new CheckpointSection(p.Kind, p.Save())).ToArray()));
    }

    /// <summary>
    /// Restores <paramref name="server"/> from the checkpoint at <paramref name="path"/> and returns the metrics rows
    /// it covers (read from <paramref name="metricsDirectory"/>; none when that is null). Every row up to the
    /// checkpoint's round must be there: rows are flushed before each checkpoint is written. The seed must be the
    /// run's and the checkpoint's d the server's. <paramref name="missingHint"/> (why a checkpoint may be missing) is
    /// appended to that error.
    /// </summary>
    /// <remarks>
    /// Each of <paramref name="parts"/> needs its section: a checkpoint of format 1 (written before component state was
    /// saved) without it is refused, since the resumed run could not continue the interrupted one exactly; so is a
    /// section no part of this run reads. Every section is decoded and checked before anything is restored.
    /// </remarks>
    /// <exception cref="CheckpointException">the checkpoint is missing, corrupt or belongs to another run (seed, d or
    /// its sections), lacks a section this run needs, or the metrics file is malformed or short of rows.</exception>
    public static IReadOnlyList<RoundRecord> Resume(string path, string? metricsDirectory, ParameterServer server, int seed, string missingHint, IReadOnlyList<ICheckpointPart>? parts = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (!File.Exists(path))
        {
            throw new CheckpointException($"cannot resume: {path} does not exist ({missingHint})");
        }

        var checkpoint = CheckpointFile.Load(path);
        int d = server.Parameters.Length;
        if (checkpoint.Seed != seed || checkpoint.Parameters.Length != d)
        {
            throw new CheckpointException(
                $"{path} belongs to another run: seed {checkpoint.Seed} and d = {checkpoint.Parameters.Length}, this run has seed {seed} and d = {d}");
        }

        IReadOnlyList<RoundRecord> rows = [];
        if (metricsDirectory is not null)
        {
            try
            {
                rows = MetricsFiles.Read(metricsDirectory, checkpoint.Round);
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointException("cannot resume: " + e.Message);
            }

            if (rows.Count != checkpoint.Round)
            {
                throw new CheckpointException($"cannot resume: the checkpoint is at round {checkpoint.Round} but {MetricsFiles.JsonLinesName} holds only {rows.Count} rows");
            }
        }

        var installs = LoadParts(path, checkpoint, parts ?? []);
        server.Restore(checkpoint.Round, checkpoint.Parameters, checkpoint.Velocity, checkpoint.HasVelocity,
            checkpoint.PreviousAggregate ?? [], checkpoint.PreviousAggregate is not null);
        foreach (var install in installs)
        {
            install();
        }

        return rows;
    }

    /// <summary>Matches the checkpoint's sections to <paramref name="parts"/> and decodes each, changing nothing.</summary>
    private static List<Action> LoadParts(string path, Checkpoint checkpoint, IReadOnlyList<ICheckpointPart> parts)
    {
        var sections = checkpoint.Sections ?? [];
        foreach (var section in sections)
        {
            if (!parts.Any(p => p.Kind == section.Kind))
            {
                throw new CheckpointException($"cannot resume: {path} holds state for {section.Kind} that this run does not use; it belongs to another run");
            }
        }

        var installs = new List<Action>();
        foreach (var part in parts)
        {
            var section = sections.FirstOrDefault(s => s.Kind == part.Kind);
            if (section is null)
            {
                throw new CheckpointException(checkpoint.Format < 2
                    ? $"cannot resume: {path} was written by an older dstar (checkpoint format {checkpoint.Format}), which did not save {part.Description}; resumed from it, this run would not continue as it would have uninterrupted. Start the run again, or finish it with the dstar that wrote it; nothing was changed on disk"
                    : $"cannot resume: {path} holds no state for {part.Description}, which this run needs; it belongs to another run");
            }

            try
            {
                installs.Add(part.Load(section.Payload));
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointException($"cannot resume: {path} is inconsistent: {part.Description}: {e.Message}; nothing was changed on disk");
            }
        }

        return installs;
    }
}

using Dstar.Engine.Recording;
using Dstar.Engine.Server;

namespace Dstar.Engine.Checkpoints;

/// <summary>
/// Saving a parameter server's state at the end of a round and resuming from it, with the metrics rows the checkpoint
/// covers: one implementation for the simulator and the gRPC cluster, so both resume the same way.
/// </summary>
public static class RunCheckpoints
{
    /// <summary>Writes the server's state (atomically, the previous checkpoint kept) to <paramref name="path"/>.</summary>
    public static void Save(string path, ParameterServer server, int seed, double virtualSeconds)
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
            server.PreviousAggregate?.ToArray()));
    }

    /// <summary>
    /// Restores <paramref name="server"/> from the checkpoint at <paramref name="path"/> and returns the metrics rows
    /// it covers (read from <paramref name="metricsDirectory"/>; none when that is null). Every row up to the
    /// checkpoint's round must be there: rows are flushed before each checkpoint is written. The seed must be the
    /// run's and the checkpoint's d the server's. <paramref name="missingHint"/> (why a checkpoint may be missing) is
    /// appended to that error.
    /// </summary>
    /// <exception cref="CheckpointException">the checkpoint is missing, corrupt or belongs to another run (seed or
    /// d), or the metrics file is malformed or short of rows.</exception>
    public static IReadOnlyList<RoundRecord> Resume(string path, string? metricsDirectory, ParameterServer server, int seed, string missingHint)
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

        server.Restore(checkpoint.Round, checkpoint.Parameters, checkpoint.Velocity, checkpoint.HasVelocity,
            checkpoint.PreviousAggregate ?? [], checkpoint.PreviousAggregate is not null);
        return rows;
    }
}

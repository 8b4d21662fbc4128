using Dstar.Engine.Checkpoints;

namespace Dstar.Engine.Guarantees;

/// <summary>
/// The fixed parameters x at which a resilience estimate draws its rounds, with what a round there also reads: the
/// previous aggregate (centered clipping starts from it) and the round number t of the first draw. Draw r uses round
/// t + r, so its minibatches, delays, g₀ and attack randomness are the (seed, t + r) streams of an ordinary run: draw 0
/// is exactly the round that run would do next, and distinct rounds are independent draws.
/// </summary>
/// <param name="Name">"init", a checkpoint path, or a study's label.</param>
/// <param name="Parameters">x (d floats).</param>
/// <param name="PreviousAggregate">The aggregate of round t − 1, or null.</param>
/// <param name="FirstRound">t, the round of draw 0.</param>
public sealed record ResiliencePoint(string Name, float[] Parameters, float[]? PreviousAggregate, long FirstRound)
{
    /// <summary>The point a checkpoint file holds: its x_t, previous aggregate and round t.</summary>
    /// <exception cref="CheckpointException">the file is missing or corrupt, or does not fit (seed, d).</exception>
    public static ResiliencePoint FromCheckpoint(string path, int seed, int dimension)
    {
        if (Directory.Exists(path))
        {
            throw new CheckpointException($"--at: {path} is a directory; give the checkpoint file itself ({Path.Combine(path, CheckpointFile.FileName)} for a run directory), or 'init'");
        }

        if (!File.Exists(path))
        {
            throw new CheckpointException($"--at: {path} does not exist (give a run's checkpoint.bin, or 'init')");
        }

        var checkpoint = CheckpointFile.Load(path);
        if (checkpoint.Seed != seed || checkpoint.Parameters.Length != dimension)
        {
            throw new CheckpointException(
                $"--at: {path} belongs to another run: seed {checkpoint.Seed} and d = {checkpoint.Parameters.Length}, this config has seed {seed} and d = {dimension}");
        }

        return new ResiliencePoint(path, checkpoint.Parameters, checkpoint.PreviousAggregate, checkpoint.Round);
    }
}

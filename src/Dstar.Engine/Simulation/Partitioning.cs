using Dstar.Core.Specs;
using Dstar.Learning.Data;

namespace Dstar.Engine.Simulation;

/// <summary>Splits the workers' pool of training samples into one shard per worker, from a partition spec.</summary>
internal static class Partitioning
{
    /// <summary>Shards of <paramref name="pool"/> for <paramref name="workers"/> workers.</summary>
    /// <exception cref="SpecException">an unknown partition or parameter.</exception>
    public static int[][] Split(string spec, int[] pool, Dataset train, int workers, int seed)
    {
        var parsed = Spec.Parse(spec);
        var args = new SpecArguments(parsed);
        switch (parsed.Name)
        {
            case "iid":
                args.EnsureAllUsed();

                // The pool is already a seeded shuffle: deal it round-robin so shard sizes differ by at most one.
                return Enumerable.Range(0, workers).Select(w => pool.Where((_, i) => i % workers == w).ToArray()).ToArray();
            default:
                throw new SpecException($"unknown partition '{parsed.Name}' (valid: iid)");
        }
    }
}

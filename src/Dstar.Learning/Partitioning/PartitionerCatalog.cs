using Dstar.Core.Specs;

namespace Dstar.Learning.Partitioning;

/// <summary>Partitioners by spec: <c>iid</c>, <c>dirichlet alpha=0.5</c>, <c>shards per-worker=2</c>, <c>gamma-similarity gamma=0.5</c>.</summary>
public static class PartitionerCatalog
{
    /// <summary>Every partitioner.</summary>
    public static Catalog<IPartitioner> Partitioners { get; } = new("partitioner",
    [
        new("iid", "shuffle, then equal chunks", _ => new IidPartitioner()),
        new("dirichlet", "per-class Dir(alpha) proportions over workers; alpha=0.5 min-size=1",
            args => new DirichletPartitioner(args.Double("alpha", 0.5, min: 1e-6), args.Int("min-size", 1, min: 1))),
        new("shards", "sort by label, N·s shards, s random shards per worker; per-worker=2",
            args => new ShardPartitioner(args.Int("per-worker", 2, min: 1))),
        new("gamma-similarity", "ByzFL: a gamma fraction dealt IID, the rest sorted by label in one chunk per worker; gamma=0.5",
            args => new GammaSimilarityPartitioner(args.Double("gamma", 0.5, min: 0, max: 1))),
    ]);

    /// <summary>Builds a partitioner from its spec.</summary>
    /// <exception cref="SpecException">unknown partitioner, unknown parameter or a bad value.</exception>
    public static IPartitioner Create(string spec) => Partitioners.Create(spec);
}

using Dstar.Core.Specs;
using Dstar.Learning.Partitioning;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace Dstar.Learning.Tests;

public class PartitionTests
{
    private static readonly string[] Specs = ["iid", "dirichlet alpha=0.3", "dirichlet alpha=100", "shards per-worker=2", "gamma-similarity gamma=0.5", "gamma-similarity gamma=0"];

    /// <summary>Labels 0..9 in blocks, like a data set sorted by nothing in particular.</summary>
    private static int[] Labels(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(10)).ToArray();
    }

    private static void AssertDisjointAndComplete(int[][] parts, IReadOnlyList<int> pool, int workers)
    {
        Assert.Equal(workers, parts.Length);
        Assert.All(parts, p => Assert.NotEmpty(p));
        var all = parts.SelectMany(p => p).ToArray();
        Assert.Equal(pool.Count, all.Length);
        Assert.Equal(pool.OrderBy(i => i), all.OrderBy(i => i));
    }

    [Fact]
    public void Every_partitioner_is_disjoint_complete_and_deterministic()
    {
        foreach (var spec in Specs)
        {
            var partitioner = PartitionerCatalog.Create(spec);
            Prop.ForAll(Gen.Choose(1, 12).ToArbitrary(), Gen.Choose(0, 10_000).ToArbitrary(), (workers, seed) =>
            {
                var labels = Labels(400, seed);
                var (_, pool) = ValidationSplit.HoldOut(400, 50, seed);
                var parts = partitioner.Partition(pool, labels, workers, seed);
                AssertDisjointAndComplete(parts, pool, workers);
                var again = partitioner.Partition(pool, labels, workers, seed);
                Assert.Equal(parts, again);
            }).QuickCheckThrowOnFailure();
        }
    }

    [Fact]
    public void Different_seeds_give_different_splits()
    {
        var labels = Labels(300, 1);
        var pool = Enumerable.Range(0, 300).ToArray();
        foreach (var spec in Specs)
        {
            var partitioner = PartitionerCatalog.Create(spec);
            Assert.NotEqual(partitioner.Partition(pool, labels, 5, 1), partitioner.Partition(pool, labels, 5, 2));
        }
    }

    /// <summary>The mean over workers of the total-variation distance between a worker's label histogram and the pool's.</summary>
    private static double Skew(int[][] parts, int[] labels)
    {
        var global = new double[10];
        foreach (var i in parts.SelectMany(p => p))
        {
            global[labels[i]]++;
        }

        double total = global.Sum();
        return parts.Average(part =>
        {
            var local = new double[10];
            foreach (var i in part)
            {
                local[labels[i]]++;
            }

            return 0.5 * Enumerable.Range(0, 10).Sum(c => Math.Abs(local[c] / part.Length - global[c] / total));
        });
    }

    [Fact]
    public void Dirichlet_skew_grows_as_alpha_shrinks()
    {
        var labels = Labels(5000, 3);
        var pool = Enumerable.Range(0, 5000).ToArray();
        double iid = Skew(new IidPartitioner().Partition(pool, labels, 10, 1), labels);
        double mild = Skew(new DirichletPartitioner(100).Partition(pool, labels, 10, 1), labels);
        double strong = Skew(new DirichletPartitioner(0.1).Partition(pool, labels, 10, 1), labels);
        Assert.True(iid < 0.1, $"IID skew {iid}");
        Assert.True(mild < 0.15, $"alpha=100 skew {mild}");
        Assert.True(strong > 0.5, $"alpha=0.1 skew {strong}");
    }

    [Fact]
    public void Shards_give_each_worker_few_classes()
    {
        var labels = Labels(2000, 4);
        var parts = new ShardPartitioner(2).Partition(Enumerable.Range(0, 2000).ToArray(), labels, 10, 1);
        Assert.All(parts, p => Assert.InRange(p.Select(i => labels[i]).Distinct().Count(), 1, 4));
        Assert.All(parts, p => Assert.InRange(p.Length, 199, 201));
    }

    [Fact]
    public void Gamma_similarity_matches_the_byzfl_construction()
    {
        var labels = Labels(1000, 5);
        var pool = Enumerable.Range(0, 1000).ToArray();
        // γ = 0: every worker holds one contiguous run of the label-sorted pool.
        var sorted = new GammaSimilarityPartitioner(0).Partition(pool, labels, 10, 1);
        for (int w = 0; w < 10; w++)
        {
            var workerLabels = sorted[w].Select(i => labels[i]).ToArray();
            Assert.Equal(workerLabels.OrderBy(l => l), workerLabels);
            if (w > 0)
            {
                Assert.True(labels[sorted[w - 1][^1]] <= workerLabels[0], "chunks follow the label order");
            }
        }

        // γ = 1 is IID-like; γ = 0.5 sits in between.
        double zero = Skew(sorted, labels);
        double half = Skew(new GammaSimilarityPartitioner(0.5).Partition(pool, labels, 10, 1), labels);
        double one = Skew(new GammaSimilarityPartitioner(1).Partition(pool, labels, 10, 1), labels);
        Assert.True(zero > half && half > one, $"skews {zero}, {half}, {one}");
        // Half of each worker's samples come from the IID part: 50 of its 100.
        Assert.All(new GammaSimilarityPartitioner(0.5).Partition(pool, labels, 10, 1), p => Assert.Equal(100, p.Length));
    }

    [Fact]
    public void Validation_split_is_disjoint_from_the_pool_and_seeded()
    {
        var (validation, pool) = ValidationSplit.HoldOut(1000, 100, 7);
        Assert.Equal(100, validation.Length);
        Assert.Empty(validation.Intersect(pool));
        Assert.Equal(Enumerable.Range(0, 1000), validation.Concat(pool).OrderBy(i => i));
        Assert.Equal(validation, ValidationSplit.HoldOut(1000, 100, 7).Validation);
        Assert.NotEqual(validation, ValidationSplit.HoldOut(1000, 100, 8).Validation);
    }

    [Fact]
    public void Bad_specs_and_impossible_splits_are_refused_with_reasons()
    {
        Assert.Contains("alpha", Assert.Throws<SpecException>(() => PartitionerCatalog.Create("dirichlet alpha=0")).Message);
        Assert.Contains("gamma", Assert.Throws<SpecException>(() => PartitionerCatalog.Create("gamma-similarity gamma=1.5")).Message);
        Assert.Contains("valid", Assert.Throws<SpecException>(() => PartitionerCatalog.Create("shards per=2")).Message);
        Assert.Contains("need at least 20", Assert.Throws<ArgumentException>(() => new ShardPartitioner(2).Partition(Enumerable.Range(0, 19).ToArray(), Labels(19, 1), 10, 1)).Message);
        Assert.Contains("no labels", Assert.Throws<ArgumentException>(() => new DirichletPartitioner(1).Partition([0, 1, 2], [], 2, 1)).Message);
        Assert.Contains("raise alpha", Assert.Throws<InvalidOperationException>(() => new DirichletPartitioner(0.01, 40).Partition(Enumerable.Range(0, 400).ToArray(), Labels(400, 1), 10, 1)).Message);
    }

    [Fact]
    public void Sampler_visits_every_sample_once_per_epoch_and_restores_exactly()
    {
        var shard = Enumerable.Range(100, 40).ToArray();
        var sampler = new MinibatchSampler(shard, 8, seed: 3);
        var epoch0 = Enumerable.Range(0, 5).SelectMany(_ => sampler.Next().ToArray()).ToArray();
        Assert.Equal(shard, epoch0.OrderBy(i => i));
        var epoch1 = Enumerable.Range(0, 5).SelectMany(_ => sampler.Next().ToArray()).ToArray();
        Assert.Equal(1, sampler.Epoch);
        Assert.Equal(shard, epoch1.OrderBy(i => i));
        Assert.NotEqual(epoch0, epoch1);

        var restored = new MinibatchSampler(shard, 8, seed: 3);
        restored.Restore(1, 16);
        Assert.Equal(epoch1[16..24], restored.Next().ToArray());
        Assert.Equal(epoch0, Take(new MinibatchSampler(shard, 8, seed: 3), 5));
        Assert.NotEqual(epoch0, Take(new MinibatchSampler(shard, 8, seed: 4), 5));
    }

    private static IEnumerable<int> Take(MinibatchSampler sampler, int batches)
    {
        var result = new List<int>();
        for (int i = 0; i < batches; i++)
        {
            result.AddRange(sampler.Next().ToArray());
        }

        return result;
    }
}

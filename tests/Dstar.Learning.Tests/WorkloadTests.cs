using Dstar.Learning.Data;
using Xunit;

namespace Dstar.Learning.Tests;

public class WorkloadTests
{
    [Fact]
    public void Synthetic_workload_starts_away_from_its_known_optimum_and_shares_one_oracle()
    {
        using var workload = Workload.Create(new WorkloadOptions
        {
            Dataset = "synthetic-logistic samples=600 dimension=5 classes=3",
            Model = "logreg",
            Partition = "dirichlet alpha=1",
            Workers = 6,
            ValidationSamples = 60,
            Seed = 4,
        });
        Assert.NotNull(workload.Synthetic);
        Assert.Equal(workload.Synthetic!.L2, workload.Oracle.L2);
        Assert.Equal(18, workload.Oracle.ParameterCount);
        Assert.Equal(6, workload.Shards.Length);
        Assert.Empty(workload.Shards.SelectMany(s => s).Intersect(workload.Validation));
        Assert.Equal(600, workload.Shards.Sum(s => s.Length) + workload.Validation.Length);
        Assert.Contains("synthetic-logistic", workload.Description);

        // The gradient at θ₀ is far from zero; at θ* (full data) it vanishes.
        var gradient = new float[18];
        var all = Enumerable.Range(0, 600).ToArray();
        workload.Oracle.SetParameters(workload.InitialParameters);
        workload.Oracle.ComputeGradient(all, gradient);
        Assert.True(gradient.Max(Math.Abs) > 1e-2);
        workload.Oracle.SetParameters(workload.Synthetic.Optimum);
        workload.Oracle.ComputeGradient(all, gradient);
        Assert.True(gradient.Max(Math.Abs) < 1e-5);
    }

    [Fact]
    public void Same_seed_gives_the_same_initial_parameters_and_shards()
    {
        WorkloadOptions options = new() { Dataset = "synthetic-linear samples=200", Model = "linreg", Workers = 4, ValidationSamples = 20, Seed = 9 };
        using var a = Workload.Create(options);
        using var b = Workload.Create(options);
        using var c = Workload.Create(options with { Seed = 10 });
        Assert.Equal(a.InitialParameters, b.InitialParameters);
        Assert.Equal(a.Shards, b.Shards);
        Assert.NotEqual(a.InitialParameters, c.InitialParameters);
    }

    [Fact]
    public void Fashion_mnist_workload_says_which_data_it_used()
    {
        using var workload = Workload.Create(new WorkloadOptions
        {
            DataDirectory = DataLocator.BundledSampleCandidates().First(Directory.Exists),
            Model = "mlp hidden=16",
            Workers = 5,
        });
        Assert.Contains("fashion-mnist from", workload.Description);
        Assert.Contains("6000 train, 1000 test", workload.Description);
        Assert.Contains("1000 held out", workload.Description);
        Assert.Equal(5000, workload.Shards.Sum(s => s.Length));
    }

    [Fact]
    public void Mismatched_model_and_synthetic_problem_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Workload.Create(new WorkloadOptions { Dataset = "synthetic-linear", Model = "logreg", Workers = 2 }));
        Assert.Contains("linreg", e.Message);
    }
}

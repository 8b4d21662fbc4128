using Dstar.Learning.Data.Synthetic;
using Dstar.Learning.Models;
using Dstar.Learning.Oracle;
using Xunit;

namespace Dstar.Learning.Tests;

public class OracleTests
{
    private static TorchGradientOracle Oracle(SyntheticProblem problem, string model = "", long seed = 3) =>
        new(ModelCatalog.Create(model == "" ? problem.ModelName : model).Build(problem.Train.SampleShape, problem.Train.ClassCount, seed),
            problem.Train, problem.Test, new TorchGradientOracleOptions { L2 = problem.L2 });

    [Theory]
    [InlineData("logreg")]
    [InlineData("mlp hidden=7")]
    [InlineData("small-cnn")]
    public void Parameters_round_trip_through_the_model(string model)
    {
        var problem = model == "small-cnn"
            ? null
            : LogisticRegressionProblem.Create(trainCount: 50, testCount: 10, dimension: 6, classCount: 3);
        using var oracle = problem is null
            ? new TorchGradientOracle(ModelCatalog.Create(model).Build([1, 28, 28], 10, 1),
                Images.Random(8, 10, 1), Images.Random(4, 10, 2))
            : Oracle(problem, model);
        var random = new Random(5);
        var theta = Enumerable.Range(0, oracle.ParameterCount).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        oracle.SetParameters(theta);
        var back = new float[oracle.ParameterCount];
        oracle.GetParameters(back);
        Assert.Equal(theta, back);
    }

    [Fact]
    public void Parameter_order_is_weight_rows_then_bias()
    {
        var problem = LogisticRegressionProblem.Create(trainCount: 20, testCount: 5, dimension: 4, classCount: 3);
        using var oracle = Oracle(problem);
        Assert.Equal(3 * 4 + 3, oracle.ParameterCount);
        var theta = Enumerable.Range(0, oracle.ParameterCount).Select(i => (float)i).ToArray();
        oracle.SetParameters(theta);
        var linear = (TorchSharp.Modules.Linear)oracle.Model.children().Last();
        Assert.Equal(theta[..12], linear.weight!.data<float>().ToArray());
        Assert.Equal(theta[12..], linear.bias!.data<float>().ToArray());
    }

    [Fact]
    public void Logistic_gradient_equals_central_finite_differences()
    {
        var problem = LogisticRegressionProblem.Create(trainCount: 64, testCount: 8, dimension: 5, classCount: 3, l2: 0.05, seed: 11);
        using var oracle = Oracle(problem);
        var random = new Random(7);
        var theta = Enumerable.Range(0, oracle.ParameterCount).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        int[] batch = [0, 3, 5, 8, 13, 21, 34, 55];
        oracle.SetParameters(theta);
        var gradient = new float[oracle.ParameterCount];
        oracle.ComputeGradient(batch, gradient);

        // Reference: F in double precision on the same batch, differentiated numerically.
        var subset = Subset(problem, batch);
        const double h = 1e-4;
        for (int i = 0; i < theta.Length; i++)
        {
            var plus = theta.Select(v => (double)v).ToArray();
            var minus = theta.Select(v => (double)v).ToArray();
            plus[i] += h;
            minus[i] -= h;
            double numeric = (LogisticRegressionProblem.Objective(subset, plus, problem.L2) - LogisticRegressionProblem.Objective(subset, minus, problem.L2)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) < 1e-4, $"coordinate {i}: oracle {gradient[i]}, finite difference {numeric}");
        }
    }

    [Fact]
    public void Gradient_loss_matches_the_double_precision_objective()
    {
        var problem = LogisticRegressionProblem.Create(trainCount: 40, testCount: 8, dimension: 4, classCount: 2, l2: 0.1, seed: 2);
        using var oracle = Oracle(problem);
        int[] all = Enumerable.Range(0, 40).ToArray();
        oracle.SetParameters(problem.Optimum);
        var gradient = new float[oracle.ParameterCount];
        double loss = oracle.ComputeGradient(all, gradient);
        Assert.Equal(problem.OptimalLoss, loss, 4);
        Assert.Equal(problem.OptimalLoss, oracle.Loss(all), 4);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Full_gradient_vanishes_at_the_known_logistic_optimum(int classes)
    {
        var problem = LogisticRegressionProblem.Create(trainCount: 500, testCount: 50, dimension: 8, classCount: classes, seed: 4);
        using var oracle = Oracle(problem);
        oracle.SetParameters(problem.Optimum);
        var gradient = new float[oracle.ParameterCount];
        oracle.ComputeGradient(Enumerable.Range(0, 500).ToArray(), gradient);
        Assert.True(gradient.Max(Math.Abs) < 1e-5, $"max |∇F(θ*)| = {gradient.Max(Math.Abs)}");

        // And it does not vanish away from it.
        var moved = problem.Optimum.Select(v => v + 0.1f).ToArray();
        oracle.SetParameters(moved);
        oracle.ComputeGradient(Enumerable.Range(0, 500).ToArray(), gradient);
        Assert.True(gradient.Max(Math.Abs) > 1e-3);
    }

    [Fact]
    public void Full_gradient_vanishes_at_the_known_linear_optimum()
    {
        var problem = LinearRegressionProblem.Create(trainCount: 300, testCount: 30, dimension: 6, noise: 0.3, seed: 9);
        using var oracle = Oracle(problem);
        oracle.SetParameters(problem.Optimum);
        var gradient = new float[oracle.ParameterCount];
        double loss = oracle.ComputeGradient(Enumerable.Range(0, 300).ToArray(), gradient);
        Assert.True(gradient.Max(Math.Abs) < 1e-4, $"max |∇F(θ*)| = {gradient.Max(Math.Abs)}");
        Assert.Equal(problem.OptimalLoss, loss, 4);
        Assert.True(double.IsNaN(oracle.Evaluate().Accuracy));
    }

    [Fact]
    public void Label_flip_maps_y_to_C_minus_1_minus_y()
    {
        var problem = LogisticRegressionProblem.Create(trainCount: 30, testCount: 5, dimension: 3, classCount: 4, seed: 5);
        using var oracle = Oracle(problem);
        int[] batch = [1, 2, 3, 4, 5, 6];
        var flipped = new float[oracle.ParameterCount];
        double flippedLoss = oracle.ComputeGradient(batch, flipped, flipLabels: true);

        var labels = problem.Train.Labels.ToArray().Select(y => 3 - y).ToArray();
        var relabelled = Data.VectorDataset.Classification("flipped", Enumerable.Range(0, 30).SelectMany(i => problem.Train.Row(i).ToArray()).ToArray(), 3, labels, 4);
        var theta = new float[oracle.ParameterCount];
        oracle.GetParameters(theta);
        using var reference = new TorchGradientOracle(ModelCatalog.Create("logreg").Build([3], 4, 1), relabelled, problem.Test,
            new TorchGradientOracleOptions { L2 = problem.L2 });
        reference.SetParameters(theta);
        var expected = new float[oracle.ParameterCount];
        double expectedLoss = reference.ComputeGradient(batch, expected);
        Assert.Equal(expectedLoss, flippedLoss, 6);
        Assert.Equal(expected, flipped);
    }

    [Fact]
    public void Same_parameters_and_batch_give_identical_gradients_whatever_came_before()
    {
        using var oracle = new TorchGradientOracle(ModelCatalog.Create("small-cnn").Build([1, 28, 28], 10, 1), Images.Random(40, 10, 3), Images.Random(4, 10, 4));
        var theta = new float[oracle.ParameterCount];
        oracle.GetParameters(theta);
        int[] batch = [3, 1, 4, 1, 5, 9, 2, 6];
        var first = new float[oracle.ParameterCount];
        var other = new float[oracle.ParameterCount];
        var second = new float[oracle.ParameterCount];
        double loss = oracle.ComputeGradient(batch, first);

        // Another worker's call in between (other parameters, other batch, flipped labels) leaves no trace.
        oracle.SetParameters(theta.Select(v => v * 0.5f).ToArray());
        oracle.ComputeGradient([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18], other, flipLabels: true);
        oracle.SetParameters(theta);
        Assert.Equal(loss, oracle.ComputeGradient(batch, second));
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Bad_inputs_are_refused_with_the_reason()
    {
        var problem = LogisticRegressionProblem.Create(trainCount: 10, testCount: 5, dimension: 3);
        using var oracle = Oracle(problem);
        var gradient = new float[oracle.ParameterCount];
        Assert.Contains("outside 0..9", Assert.Throws<ArgumentException>(() => oracle.ComputeGradient([10], gradient)).Message);
        Assert.Contains("at least one", Assert.Throws<ArgumentException>(() => oracle.ComputeGradient([], gradient)).Message);
        Assert.Contains("parameters", Assert.Throws<ArgumentException>(() => oracle.SetParameters(new float[3])).Message);
        var regression = LinearRegressionProblem.Create(trainCount: 10, testCount: 5, dimension: 3);
        using var linear = Oracle(regression);
        Assert.Throws<InvalidOperationException>(() => linear.ComputeGradient([0], new float[linear.ParameterCount], flipLabels: true));
    }

    [Fact]
    public void Evaluation_counts_correct_predictions()
    {
        var problem = LogisticRegressionProblem.Create(trainCount: 400, testCount: 300, dimension: 5, classCount: 3, seed: 8);
        using var oracle = Oracle(problem);
        oracle.SetParameters(problem.Optimum);
        var evaluation = oracle.Evaluate();

        // Reference: argmax of W x + b in double precision.
        int correct = 0;
        for (int i = 0; i < problem.Test.Count; i++)
        {
            var row = problem.Test.Row(i).ToArray();
            var scores = Enumerable.Range(0, 3).Select(c => problem.Optimum[15 + c] + Enumerable.Range(0, 5).Sum(j => (double)problem.Optimum[c * 5 + j] * row[j])).ToArray();
            correct += Array.IndexOf(scores, scores.Max()) == problem.Test.Labels[i] ? 1 : 0;
        }

        Assert.Equal((double)correct / problem.Test.Count, evaluation.Accuracy, 9);
        Assert.True(evaluation.Accuracy > 0.5);
    }

    private static Data.VectorDataset Subset(SyntheticProblem problem, int[] indices) =>
        Data.VectorDataset.Classification("subset",
            indices.SelectMany(i => problem.Train.Row(i).ToArray()).ToArray(),
            problem.Train.FeatureCount,
            indices.Select(i => problem.Train.Labels[i]).ToArray(),
            problem.Train.ClassCount);
}

using System.Diagnostics;
using Dstar.Core.Optimization;
using Dstar.Learning.Data;
using Dstar.Learning.Models;
using Dstar.Learning.Oracle;
using Dstar.Learning.Partitioning;
using Xunit;
using Xunit.Abstractions;

namespace Dstar.Learning.Tests;

public class EndToEndTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "EndToEnd")]
    public void Small_cnn_with_plain_sgd_reaches_80_percent_on_the_bundled_sample()
    {
        var sample = DataLocator.BundledSampleCandidates().First(Directory.Exists);
        var data = DatasetCatalog.Load("fashion-mnist", sample);
        Assert.Equal(6000, data.Train.Count);
        Assert.Equal(1000, data.Test.Count);
        output.WriteLine(data.Description);

        using var oracle = new TorchGradientOracle(ModelCatalog.Create("small-cnn").Build(data.Train.SampleShape, 10, seed: 1), data.Train, data.Test);
        var theta = new float[oracle.ParameterCount];
        var gradient = new float[oracle.ParameterCount];
        oracle.GetParameters(theta);
        var sgd = new Sgd(oracle.ParameterCount, learningRate: 0.1);
        var sampler = new MinibatchSampler(Enumerable.Range(0, data.Train.Count).ToArray(), batchSize: 32, seed: 1);
        var clock = Stopwatch.StartNew();
        int stepsPerEpoch = data.Train.Count / 32;
        Evaluation evaluation = default;
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            for (int step = 0; step < stepsPerEpoch; step++)
            {
                oracle.SetParameters(theta);
                oracle.ComputeGradient(sampler.Next(), gradient);
                sgd.Step(theta, gradient);
            }

            oracle.SetParameters(theta);
            evaluation = oracle.Evaluate();
            output.WriteLine($"epoch {epoch}: test accuracy {evaluation.Accuracy:P1}, loss {evaluation.Loss:F3}, {clock.Elapsed.TotalSeconds:F1} s");
        }

        Assert.True(evaluation.Accuracy >= 0.80, $"test accuracy {evaluation.Accuracy:P1} < 80%");
    }
}

using Dstar.Learning;

namespace Dstar.Cluster.Workload;

/// <summary>
/// A synthetic, strongly convex task small enough for multi-process tests: features x ~ N(0, I_d), a hidden
/// w* ~ N(0, I_d), labels y = 1[w*·x + ε &gt; 0] with ε ~ N(0, 0.25). The model is logistic regression with d weights
/// and a bias (d + 1 parameters); the loss is the mean binary cross-entropy. Written in plain C# so that a worker
/// process needs no native library. Gradient cost O(b·d) for a batch of b samples; no allocation per call.
/// Same seed → same data on every process, so each worker can rebuild its shard from its id alone.
/// </summary>
public sealed class SyntheticLogisticRegression : IGradientOracle
{
    private readonly int _features;
    private readonly float[] _train;
    private readonly float[] _trainLabels;
    private readonly float[] _test;
    private readonly float[] _testLabels;
    private readonly float[] _parameters;

    /// <summary>Generates <paramref name="samples"/> training and <paramref name="testSamples"/> test samples.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a count is &lt; 1.</exception>
    public SyntheticLogisticRegression(int features, int samples, int seed, int testSamples = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(testSamples, 1);
        _features = features;
        var random = new Random(seed);
        var truth = new float[features];
        for (var j = 0; j < features; j++)
        {
            truth[j] = Gaussian(random);
        }

        (_train, _trainLabels) = Generate(random, truth, samples);
        (_test, _testLabels) = Generate(random, truth, testSamples);
        _parameters = new float[features + 1];
        SampleCount = samples;
    }

    /// <summary>The number of training samples.</summary>
    public int SampleCount { get; }

    /// <inheritdoc />
    public int ParameterCount => _features + 1;

    /// <inheritdoc />
    public void SetParameters(ReadOnlySpan<float> parameters)
    {
        if (parameters.Length != ParameterCount)
        {
            throw new ArgumentException($"logistic regression has {ParameterCount} parameters, got {parameters.Length}.", nameof(parameters));
        }

        parameters.CopyTo(_parameters);
    }

    /// <inheritdoc />
    public void GetParameters(Span<float> destination) => _parameters.CopyTo(destination);

    /// <inheritdoc />
    public double ComputeGradient(ReadOnlySpan<int> sampleIndices, Span<float> gradient, bool flipLabels = false)
    {
        if (gradient.Length != ParameterCount)
        {
            throw new ArgumentException($"gradient needs {ParameterCount} values, got {gradient.Length}.", nameof(gradient));
        }

        gradient.Clear();
        if (sampleIndices.IsEmpty)
        {
            return double.NaN;
        }

        double loss = 0;
        foreach (var i in sampleIndices)
        {
            var x = _train.AsSpan(i * _features, _features);
            var y = flipLabels ? 1 - _trainLabels[i] : _trainLabels[i];
            var p = Probability(x);
            loss += CrossEntropy(p, y);
            var residual = (float)(p - y);
            for (var j = 0; j < _features; j++)
            {
                gradient[j] += residual * x[j];
            }

            gradient[_features] += residual;
        }

        var scale = 1f / sampleIndices.Length;
        for (var j = 0; j < gradient.Length; j++)
        {
            gradient[j] *= scale;
        }

        return loss / sampleIndices.Length;
    }

    /// <inheritdoc />
    public double Loss(ReadOnlySpan<int> sampleIndices)
    {
        double loss = 0;
        foreach (var i in sampleIndices)
        {
            loss += CrossEntropy(Probability(_train.AsSpan(i * _features, _features)), _trainLabels[i]);
        }

        return sampleIndices.IsEmpty ? double.NaN : loss / sampleIndices.Length;
    }

    /// <inheritdoc />
    public Evaluation Evaluate()
    {
        var count = _testLabels.Length;
        double loss = 0;
        var correct = 0;
        for (var i = 0; i < count; i++)
        {
            var p = Probability(_test.AsSpan(i * _features, _features));
            loss += CrossEntropy(p, _testLabels[i]);
            if ((p >= 0.5) == (_testLabels[i] > 0.5f))
            {
                correct++;
            }
        }

        return new Evaluation((double)correct / count, loss / count);
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private double Probability(ReadOnlySpan<float> x)
    {
        double z = _parameters[_features];
        for (var j = 0; j < _features; j++)
        {
            z += _parameters[j] * x[j];
        }

        return 1.0 / (1.0 + Math.Exp(-z));
    }

    private static double CrossEntropy(double p, float y)
    {
        const double epsilon = 1e-12;
        return -(y * Math.Log(p + epsilon) + (1 - y) * Math.Log(1 - p + epsilon));
    }

    private (float[] X, float[] Y) Generate(Random random, float[] truth, int count)
    {
        var x = new float[count * _features];
        var y = new float[count];
        for (var i = 0; i < count; i++)
        {
            double z = 0;
            for (var j = 0; j < _features; j++)
            {
                var value = Gaussian(random);
                x[i * _features + j] = value;
                z += value * truth[j];
            }

            y[i] = z + 0.5 * Gaussian(random) > 0 ? 1f : 0f;
        }

        return (x, y);
    }

    // Box–Muller: two uniforms → one standard normal.
    private static float Gaussian(Random random)
    {
        var u = 1.0 - random.NextDouble();
        var v = random.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
    }
}

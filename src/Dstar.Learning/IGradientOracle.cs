namespace Dstar.Learning;

/// <summary>
/// Turns (parameters, minibatch) into a flat gradient. The parameter vector and the gradient are flat
/// <see cref="float"/> spans in the model's parameter order; no flat buffer is allocated per call.
/// </summary>
public interface IGradientOracle : IDisposable
{
    /// <summary>d: the number of model parameters.</summary>
    int ParameterCount { get; }

    /// <summary>Loads x into the model.</summary>
    /// <exception cref="ArgumentException">the length is not <see cref="ParameterCount"/>.</exception>
    void SetParameters(ReadOnlySpan<float> parameters);

    /// <summary>Copies the model's current parameters into <paramref name="destination"/>.</summary>
    void GetParameters(Span<float> destination);

    /// <summary>
    /// The gradient of the mean loss over the samples <paramref name="sampleIndices"/> of the training set, written to
    /// <paramref name="gradient"/>; returns that mean loss. With <paramref name="flipLabels"/> the labels are
    /// y' = C − 1 − y (the label-flip attack).
    /// </summary>
    double ComputeGradient(ReadOnlySpan<int> sampleIndices, Span<float> gradient, bool flipLabels = false);

    /// <summary>The mean loss over <paramref name="sampleIndices"/> of the training set at the current parameters (no gradient).</summary>
    double Loss(ReadOnlySpan<int> sampleIndices);

    /// <summary>Accuracy and mean loss on the held-out test set at the current parameters.</summary>
    Evaluation Evaluate();
}

/// <summary>Accuracy (0..1; NaN for regression) and mean loss.</summary>
public readonly record struct Evaluation(double Accuracy, double Loss);

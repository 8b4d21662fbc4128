namespace Dstar.Learning.Data;

/// <summary>
/// An in-memory labelled data set: <see cref="Count"/> samples, each a tensor of shape <see cref="SampleShape"/>
/// (for example [1, 28, 28] or [d]), with a class label in 0..<see cref="ClassCount"/>−1 (classification) or a real
/// target (regression, <see cref="ClassCount"/> = 0). Samples are written as floats into caller-owned memory, so a
/// minibatch can be assembled straight into a tensor's storage.
/// </summary>
public abstract class Dataset
{
    /// <summary>Creates the common part.</summary>
    /// <exception cref="ArgumentException">an empty shape, a non-positive dimension or a negative class count.</exception>
    protected Dataset(string name, IReadOnlyList<int> sampleShape, int count, int classCount)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (sampleShape.Count == 0 || sampleShape.Any(s => s <= 0))
        {
            throw new ArgumentException($"data set '{name}': sample shape [{string.Join(", ", sampleShape)}] must be non-empty with positive sizes", nameof(sampleShape));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(classCount);
        Name = name;
        SampleShape = sampleShape.ToArray();
        FeatureCount = SampleShape.Aggregate(1, (a, b) => checked(a * b));
        Count = count;
        ClassCount = classCount;
    }

    /// <summary>A short name, for example "fashion-mnist train".</summary>
    public string Name { get; }

    /// <summary>The shape of one sample, without the batch dimension.</summary>
    public IReadOnlyList<int> SampleShape { get; }

    /// <summary>The number of floats per sample (the product of <see cref="SampleShape"/>).</summary>
    public int FeatureCount { get; }

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <summary>C, the number of classes; 0 for a regression data set.</summary>
    public int ClassCount { get; }

    /// <summary>True when samples have class labels (<see cref="ClassCount"/> &gt; 0).</summary>
    public bool IsClassification => ClassCount > 0;

    /// <summary>The class label of each sample (classification); empty for regression.</summary>
    public abstract ReadOnlySpan<int> Labels { get; }

    /// <summary>The real target of each sample (regression); empty for classification.</summary>
    public abstract ReadOnlySpan<float> Targets { get; }

    /// <summary>Writes sample <paramref name="index"/>'s <see cref="FeatureCount"/> features (normalised) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the index is outside 0..Count−1 or the destination is shorter than <see cref="FeatureCount"/>.</exception>
    public abstract void WriteFeatures(int index, Span<float> destination);

    /// <summary>The number of samples of each class (classification); empty for regression.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (var label in Labels)
        {
            counts[label]++;
        }

        return counts;
    }

    /// <summary>Checks an index and a destination length; shared by the implementations.</summary>
    protected void CheckWrite(int index, int destinationLength)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"sample {index} is outside 0..{Count - 1} of '{Name}'");
        }

        if (destinationLength < FeatureCount)
        {
            throw new ArgumentOutOfRangeException(nameof(destinationLength), $"destination holds {destinationLength} floats, a sample of '{Name}' needs {FeatureCount}");
        }
    }
}

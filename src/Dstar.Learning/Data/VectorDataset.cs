namespace Dstar.Learning.Data;

/// <summary>A data set of float feature vectors held as one row-major array (used by the synthetic problems).</summary>
public sealed class VectorDataset : Dataset
{
    private readonly float[] _features;
    private readonly int[] _labels;
    private readonly float[] _targets;

    private VectorDataset(string name, float[] features, int dimension, int count, int classCount, int[] labels, float[] targets)
        : base(name, [dimension], count, classCount)
    {
        _features = features;
        _labels = labels;
        _targets = targets;
    }

    /// <summary>A classification set: <paramref name="features"/> is count × dimension, row-major.</summary>
    /// <exception cref="ArgumentException">the lengths disagree, or a label is outside 0..classCount−1.</exception>
    public static VectorDataset Classification(string name, float[] features, int dimension, int[] labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        CheckLength(name, features, dimension, labels.Length);
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException($"data set '{name}': label {labels[i]} of sample {i} is outside 0..{classCount - 1}", nameof(labels));
            }
        }

        return new VectorDataset(name, features, dimension, labels.Length, classCount, labels, []);
    }

    /// <summary>A regression set: <paramref name="features"/> is count × dimension, row-major.</summary>
    /// <exception cref="ArgumentException">the lengths disagree.</exception>
    public static VectorDataset Regression(string name, float[] features, int dimension, float[] targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        CheckLength(name, features, dimension, targets.Length);
        return new VectorDataset(name, features, dimension, targets.Length, 0, [], targets);
    }

    /// <inheritdoc />
    public override ReadOnlySpan<int> Labels => _labels;

    /// <inheritdoc />
    public override ReadOnlySpan<float> Targets => _targets;

    /// <summary>Sample <paramref name="index"/>'s features, without copying.</summary>
    public ReadOnlySpan<float> Row(int index) => _features.AsSpan(index * FeatureCount, FeatureCount);

    /// <inheritdoc />
    public override void WriteFeatures(int index, Span<float> destination)
    {
        CheckWrite(index, destination.Length);
        Row(index).CopyTo(destination);
    }

    private static void CheckLength(string name, float[] features, int dimension, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (features.Length != (long)dimension * count)
        {
            throw new ArgumentException($"data set '{name}': {features.Length} feature values do not make {count} samples of dimension {dimension}", nameof(features));
        }
    }
}

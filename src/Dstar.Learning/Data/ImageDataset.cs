namespace Dstar.Learning.Data;

/// <summary>
/// Images stored as bytes (channel-major, [C, H, W] per image, as IDX and CIFAR-10 files hold them) and written out
/// as floats normalised per channel: x = (pixel / 255 − mean[c]) / std[c]. Keeping bytes makes full CIFAR-10 take
/// 150 MB instead of 600 MB.
/// </summary>
public sealed class ImageDataset : Dataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;
    private readonly float[] _scale;
    private readonly float[] _offset;
    private readonly int _planeSize;

    /// <summary>Wraps pixels and labels.</summary>
    /// <param name="name">For messages, for example "fashion-mnist train".</param>
    /// <param name="pixels">count × channels × height × width bytes.</param>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="labels">One label per image in 0..classCount−1.</param>
    /// <param name="classCount">C, the number of classes.</param>
    /// <param name="mean">Per-channel mean of pixel/255 (length C).</param>
    /// <param name="standardDeviation">Per-channel standard deviation of pixel/255 (length C, each &gt; 0).</param>
    /// <exception cref="ArgumentException">the lengths disagree, a label is out of range or a deviation is not positive.</exception>
    public ImageDataset(string name, byte[] pixels, int channels, int height, int width, int[] labels, int classCount,
        IReadOnlyList<float> mean, IReadOnlyList<float> standardDeviation)
        : base(name, [channels, height, width], labels?.Length ?? 0, classCount)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        if (pixels.Length != (long)labels.Length * FeatureCount)
        {
            throw new ArgumentException($"data set '{name}': {pixels.Length} pixel bytes do not make {labels.Length} images of {channels}×{height}×{width}", nameof(pixels));
        }

        if (mean.Count != channels || standardDeviation.Count != channels || standardDeviation.Any(s => !(s > 0)))
        {
            throw new ArgumentException($"data set '{name}': need {channels} means and {channels} positive standard deviations", nameof(standardDeviation));
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException($"data set '{name}': label {labels[i]} of image {i} is outside 0..{classCount - 1}", nameof(labels));
            }
        }

        _pixels = pixels;
        _labels = labels;
        _planeSize = height * width;
        _scale = new float[channels];
        _offset = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            // (p/255 − m)/s = p·(1/(255 s)) − m/s
            _scale[c] = 1f / (255f * standardDeviation[c]);
            _offset[c] = -mean[c] / standardDeviation[c];
        }
    }

    /// <inheritdoc />
    public override ReadOnlySpan<int> Labels => _labels;

    /// <inheritdoc />
    public override ReadOnlySpan<float> Targets => [];

    /// <summary>The raw bytes of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Pixels(int index) => _pixels.AsSpan(index * FeatureCount, FeatureCount);

    /// <inheritdoc />
    public override void WriteFeatures(int index, Span<float> destination)
    {
        CheckWrite(index, destination.Length);
        var source = Pixels(index);
        for (int c = 0, at = 0; c < _scale.Length; c++)
        {
            float scale = _scale[c], offset = _offset[c];
            for (int end = at + _planeSize; at < end; at++)
            {
                destination[at] = source[at] * scale + offset;
            }
        }
    }
}

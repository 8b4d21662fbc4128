using Dstar.Learning.Data;

namespace Dstar.Learning.Tests;

/// <summary>Small random image data sets for tests that need a [1, 28, 28] input.</summary>
internal static class Images
{
    public static ImageDataset Random(int count, int classes, int seed)
    {
        var random = new System.Random(seed);
        var pixels = new byte[count * 784];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(i => i % classes).ToArray();
        return new ImageDataset("random images", pixels, 1, 28, 28, labels, classes, [0.5f], [0.25f]);
    }
}

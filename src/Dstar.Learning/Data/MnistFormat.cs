namespace Dstar.Learning.Data;

/// <summary>
/// Loads an MNIST-layout data set (MNIST, Fashion-MNIST) from a directory holding <c>train-images-idx3-ubyte</c>,
/// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and <c>t10k-labels-idx1-ubyte</c>, each raw or
/// with a <c>.gz</c> suffix. Images are 1×H×W bytes, normalised with the data set's pixel mean and deviation.
/// </summary>
public static class MnistFormat
{
    /// <summary>The four file stems.</summary>
    public static readonly string[] Files = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>True when <paramref name="directory"/> holds all four files (raw or gzip).</summary>
    public static bool IsPresent(string directory) => Files.All(f => Find(directory, f) is not null);

    /// <summary>Loads the training and test sets.</summary>
    /// <param name="directory">Where the four files are.</param>
    /// <param name="name">"fashion-mnist" or "mnist" (for names and messages).</param>
    /// <param name="mean">The pixel mean (over pixel/255) used to normalise.</param>
    /// <param name="standardDeviation">The pixel standard deviation (over pixel/255).</param>
    /// <exception cref="DataFileException">a file is missing, corrupt, of the wrong rank, has labels ≥ 10, or images and labels disagree in count.</exception>
    public static (ImageDataset Train, ImageDataset Test) Load(string directory, string name, float mean, float standardDeviation) =>
        (LoadPair(directory, name, "train", mean, standardDeviation), LoadPair(directory, name, "t10k", mean, standardDeviation));

    private static ImageDataset LoadPair(string directory, string name, string prefix, float mean, float standardDeviation)
    {
        string imagesPath = Find(directory, prefix + "-images-idx3-ubyte") ?? throw Missing(directory, prefix + "-images-idx3-ubyte");
        string labelsPath = Find(directory, prefix + "-labels-idx1-ubyte") ?? throw Missing(directory, prefix + "-labels-idx1-ubyte");
        var (imageShape, pixels) = IdxFile.Read(imagesPath);
        var (labelShape, labelBytes) = IdxFile.Read(labelsPath);
        if (imageShape.Length != 3)
        {
            throw new DataFileException(imagesPath, $"expected images of rank 3 [count, rows, columns], got [{string.Join(", ", imageShape)}]");
        }

        if (labelShape.Length != 1)
        {
            throw new DataFileException(labelsPath, $"expected labels of rank 1 [count], got [{string.Join(", ", labelShape)}]");
        }

        if (imageShape[0] != labelShape[0])
        {
            throw new DataFileException(labelsPath, $"holds {labelShape[0]} labels but {Path.GetFileName(imagesPath)} holds {imageShape[0]} images");
        }

        var labels = new int[labelBytes.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labelBytes[i] > 9)
            {
                throw new DataFileException(labelsPath, $"label {labelBytes[i]} of sample {i} is outside 0..9");
            }

            labels[i] = labelBytes[i];
        }

        string split = prefix == "train" ? "train" : "test";
        return new ImageDataset($"{name} {split}", pixels, 1, imageShape[1], imageShape[2], labels, 10, [mean], [standardDeviation]);
    }

    private static string? Find(string directory, string stem)
    {
        foreach (var candidate in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") + ".gz", stem.Replace("-idx", ".idx") })
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    private static DataFileException Missing(string directory, string stem) =>
        new(Path.Combine(directory, stem + ".gz"), $"missing (neither {stem} nor {stem}.gz is in {directory})");
}

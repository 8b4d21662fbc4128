namespace Dstar.Learning.Data;

/// <summary>Where a data set was found and why that place was chosen.</summary>
/// <param name="Directory">The directory holding the files.</param>
/// <param name="Origin">How it was chosen: "data.dir", "DSTAR_DATA", "Debian package dataset-fashion-mnist" or "bundled sample".</param>
public sealed record DataLocation(string Directory, string Origin);

/// <summary>
/// Finds a data set's files, in this order:
/// <list type="number">
/// <item>the directory given on the command line (<c>data.dir</c> in the config); when given, the data must be there;</item>
/// <item>the <c>DSTAR_DATA</c> environment variable (skipped when this data set is not under it);</item>
/// <item>for Fashion-MNIST, <c>/usr/share/datasets/fashion-mnist</c> (Debian's <c>dataset-fashion-mnist</c>);</item>
/// <item>for Fashion-MNIST, the bundled sample <c>data/fashion-mnist-sample</c> next to the running assembly (the build
/// copies it into every output that references Dstar.Learning), so the quick start needs no download.</item>
/// </list>
/// In a root directory R, data set "name" may be R itself or R/name (CIFAR-10 also R/cifar-10-batches-bin and
/// R/cifar10/cifar-10-batches-bin).
/// </summary>
public static class DataLocator
{
    /// <summary>The environment variable naming a data root.</summary>
    public const string EnvironmentVariable = "DSTAR_DATA";

    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> installs the full data set.</summary>
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>The bundled sample's folder, relative to the application's base directory (and to the repository root).</summary>
    public const string BundledSampleFolder = "data/fashion-mnist-sample";

    /// <summary>Finds <paramref name="dataset"/> ("fashion-mnist", "mnist" or "cifar10").</summary>
    /// <param name="dataset">The data set name.</param>
    /// <param name="dataDirectory">The <c>data.dir</c> directory, or null.</param>
    /// <param name="environmentRoot">The <c>DSTAR_DATA</c> value to use; by default read from the environment.</param>
    /// <exception cref="DataFileException">the data set is not in <paramref name="dataDirectory"/>, or is found nowhere (the message lists every place tried).</exception>
    public static DataLocation Locate(string dataset, string? dataDirectory, string? environmentRoot = null)
    {
        Func<string, bool> present = dataset == "cifar10" ? Cifar10Format.IsPresent : MnistFormat.IsPresent;
        var tried = new List<string>();
        if (!string.IsNullOrWhiteSpace(dataDirectory))
        {
            return Search(dataset, dataDirectory, present, tried) is { } explicitDirectory
                ? new DataLocation(explicitDirectory, "data.dir")
                : throw new DataFileException(dataDirectory, Directory.Exists(dataDirectory)
                    ? $"data.dir: no {dataset} files here (looked in {string.Join(", ", tried)}; expected {Expected(dataset)})"
                    : "data.dir: no such directory");
        }

        environmentRoot ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(environmentRoot) && Search(dataset, environmentRoot, present, tried) is { } fromEnvironment)
        {
            return new DataLocation(fromEnvironment, EnvironmentVariable);
        }

        if (dataset == "fashion-mnist")
        {
            if (Search(dataset, DebianFashionMnist, present, tried) is { } debian)
            {
                return new DataLocation(debian, "Debian package dataset-fashion-mnist");
            }

            foreach (var root in BundledSampleCandidates())
            {
                if (Search(dataset, root, present, tried) is { } sample)
                {
                    return new DataLocation(sample, "bundled sample");
                }
            }
        }

        throw new DataFileException(dataset, $"not found (looked in {string.Join(", ", tried.Distinct())}); set data.dir or {EnvironmentVariable} to a directory holding {Expected(dataset)}");
    }

    /// <summary>The places the bundled sample may be: next to the application, next to this assembly.</summary>
    public static IEnumerable<string> BundledSampleCandidates()
    {
        yield return Path.Combine(AppContext.BaseDirectory, BundledSampleFolder);
        var assemblyDirectory = Path.GetDirectoryName(typeof(DataLocator).Assembly.Location);
        if (!string.IsNullOrEmpty(assemblyDirectory))
        {
            yield return Path.Combine(assemblyDirectory, BundledSampleFolder);
        }
    }

    private static string? Search(string dataset, string root, Func<string, bool> present, List<string> tried)
    {
        var candidates = new List<string> { root, Path.Combine(root, dataset) };
        if (dataset == "cifar10")
        {
            candidates.Add(Path.Combine(root, "cifar-10-batches-bin"));
            candidates.Add(Path.Combine(root, "cifar10", "cifar-10-batches-bin"));
        }

        foreach (var candidate in candidates)
        {
            tried.Add(candidate);
            if (Directory.Exists(candidate) && present(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        return null;
    }

    private static string Expected(string dataset) => dataset == "cifar10"
        ? string.Join(", ", Cifar10Format.Files)
        : string.Join(", ", MnistFormat.Files.Select(f => f + "[.gz]"));
}

using Dstar.Core.Specs;
using Dstar.Learning.Data.Synthetic;

namespace Dstar.Learning.Data;

/// <summary>
/// Data sets by spec: <c>fashion-mnist</c>, <c>mnist</c>, <c>cifar10</c>,
/// <c>synthetic-logistic samples=2000 test=500 dimension=10 classes=2 l2=0.01 separation=3 seed=1</c> and
/// <c>synthetic-linear samples=2000 test=500 dimension=10 noise=0.1 l2=0.01 seed=1</c>. Real data is found by
/// <see cref="DataLocator"/>.
/// </summary>
public static class DatasetCatalog
{
    /// <summary>Every data set; an entry's value loads it given the <c>data.dir</c> directory (or null).</summary>
    public static Catalog<Func<string?, LoadedData>> Datasets { get; } = new("data set",
    [
        new("fashion-mnist", "Fashion-MNIST 28×28 grey images, 10 classes (full set if installed, else the bundled 6000/1000 sample)",
            _ => directory => LoadMnist("fashion-mnist", directory, 0.2860f, 0.3530f)),
        new("mnist", "MNIST 28×28 grey digits, 10 classes (from data.dir or DSTAR_DATA)",
            _ => directory => LoadMnist("mnist", directory, 0.1307f, 0.3081f)),
        new("cifar10", "CIFAR-10 32×32 colour images, 10 classes, binary version (from data.dir or DSTAR_DATA)",
            _ => directory =>
            {
                var location = DataLocator.Locate("cifar10", directory);
                var (train, test) = Cifar10Format.Load(location.Directory);
                return new LoadedData(train, test, Describe("cifar10", location, train, test));
            }),
        new("synthetic-logistic", "L2-regularised logistic regression with a known optimum; samples=2000 test=500 dimension=10 classes=2 l2=0.01 separation=3 seed=1",
            args =>
            {
                int samples = args.Int("samples", 2000, min: 1), test = args.Int("test", 500, min: 1), dimension = args.Int("dimension", 10, min: 1);
                int classes = args.Int("classes", 2, min: 2), seed = args.Int("seed", 1);
                double l2 = args.Double("l2", 0.01, min: 1e-12), separation = args.Double("separation", 3, min: 1e-12);
                if ((long)classes * (dimension + 1) > 2000)
                {
                    throw args.Fail("dimension", dimension.ToString(System.Globalization.CultureInfo.InvariantCulture), "classes × (dimension + 1) ≤ 2000 (the optimum is solved exactly)");
                }

                return _ => Synthetic(LogisticRegressionProblem.Create(samples, test, dimension, classes, l2, separation, seed),
                    $"synthetic-logistic (seed {seed}): {samples} train, {test} test, dimension {dimension}, {classes} classes, l2 {l2}");
            }),
        new("synthetic-linear", "ridge regression with a closed-form optimum; samples=2000 test=500 dimension=10 noise=0.1 l2=0.01 seed=1",
            args =>
            {
                int samples = args.Int("samples", 2000, min: 1), test = args.Int("test", 500, min: 1), dimension = args.Int("dimension", 10, min: 1, max: 2000);
                int seed = args.Int("seed", 1);
                double noise = args.Double("noise", 0.1, min: 0), l2 = args.Double("l2", 0.01, min: 1e-12);
                return _ => Synthetic(LinearRegressionProblem.Create(samples, test, dimension, noise, l2, seed),
                    $"synthetic-linear (seed {seed}): {samples} train, {test} test, dimension {dimension}, noise {noise}, l2 {l2}");
            }),
    ]);

    /// <summary>Loads a data set by spec.</summary>
    /// <param name="spec">For example "fashion-mnist" or "synthetic-logistic dimension=20".</param>
    /// <param name="dataDirectory">The <c>data.dir</c> directory, or null to search (see <see cref="DataLocator"/>).</param>
    /// <exception cref="SpecException">unknown data set or a bad parameter.</exception>
    /// <exception cref="DataFileException">the files are missing or bad; the message names the file and the problem.</exception>
    public static LoadedData Load(string spec, string? dataDirectory = null) => Datasets.Create(spec)(dataDirectory);

    private static LoadedData LoadMnist(string name, string? directory, float mean, float deviation)
    {
        var location = DataLocator.Locate(name, directory);
        var (train, test) = MnistFormat.Load(location.Directory, name, mean, deviation);
        return new LoadedData(train, test, Describe(name, location, train, test));
    }

    private static LoadedData Synthetic(SyntheticProblem problem, string description) =>
        new(problem.Train, problem.Test, description, problem);

    private static string Describe(string name, DataLocation location, Dataset train, Dataset test) =>
        $"{name} from {location.Directory} ({location.Origin}): {train.Count} train, {test.Count} test";
}

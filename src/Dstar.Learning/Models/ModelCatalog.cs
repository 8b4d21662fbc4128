using Dstar.Core.Specs;
using TorchSharp;
using static TorchSharp.torch;

namespace Dstar.Learning.Models;

/// <summary>
/// Models by name: <c>logreg</c>, <c>linreg</c>, <c>mlp hidden=128</c>, <c>small-cnn hidden=128</c>,
/// <c>resnet18 norm=batch|group</c>. <c>Models.Create("mlp hidden=200").Build(shape, classes, seed)</c>.
/// </summary>
public static class ModelCatalog
{
    /// <summary>The largest <c>hidden=</c> width accepted: a wider layer would only exhaust memory before the first round.</summary>
    public const int MaxHidden = 65_536;

    /// <summary>Every model architecture.</summary>
    public static Catalog<ModelDefinition> Models { get; } = new("model",
    [
        new("logreg", "multinomial logistic regression: flatten, one linear layer to C logits",
            args => new ModelDefinition(args.Name, "flatten → linear(C)", LogisticRegression)),
        new("linreg", "linear regression: flatten, one linear layer to one output (squared loss)",
            args => new ModelDefinition(args.Name, "flatten → linear(1)", LinearRegression)),
        new("mlp", "multilayer perceptron with one hidden ReLU layer; hidden=128",
            args =>
            {
                int hidden = args.Int("hidden", 128, min: 1, max: MaxHidden);
                return new ModelDefinition($"mlp hidden={hidden}", $"flatten → linear({hidden}) → relu → linear(C)",
                    (shape, classes) => Mlp(shape, classes, hidden));
            }),
        new("small-cnn", "two 5×5 conv (32, 64 channels, ReLU, 2×2 max-pool) and two linear layers for 28×28 images; hidden=128",
            args =>
            {
                int hidden = args.Int("hidden", 128, min: 1, max: MaxHidden);
                return new ModelDefinition($"small-cnn hidden={hidden}", "conv5(32) → pool → conv5(64) → pool → linear(hidden) → linear(C)",
                    (shape, classes) => SmallCnn.Create(shape, classes, hidden));
            }),
        new("resnet18", "ResNet-18 for CIFAR-10 32×32 images; norm=batch (or group)",
            args =>
            {
                var norm = args.Choice("norm", "batch", "batch", "group");
                return new ModelDefinition($"resnet18 norm={norm}", "ResNet-18 (CIFAR stem), " + norm + " normalisation",
                    (shape, classes) => new ResNet18(shape, classes, norm == "group"), hasRunningState: norm == "batch");
            }),
    ]);

    /// <summary>Builds a model definition from its spec (<c>mlp hidden=200</c>).</summary>
    /// <exception cref="SpecException">unknown model, unknown parameter or a bad value.</exception>
    public static ModelDefinition Create(string spec) => Models.Create(spec);

    private static int Features(IReadOnlyList<int> shape) => shape.Aggregate(1, (a, b) => checked(a * b));

    private static nn.Module<Tensor, Tensor> LogisticRegression(IReadOnlyList<int> shape, int classCount)
    {
        if (classCount < 1)
        {
            throw new ArgumentException("logreg is a classifier: the data set has no classes (use linreg for regression)");
        }

        return nn.Sequential(("flatten", nn.Flatten()), ("linear", nn.Linear(Features(shape), classCount)));
    }

    private static nn.Module<Tensor, Tensor> LinearRegression(IReadOnlyList<int> shape, int classCount)
    {
        if (classCount != 0)
        {
            throw new ArgumentException($"linreg is a regression model: the data set has {classCount} classes (use logreg)");
        }

        return nn.Sequential(("flatten", nn.Flatten()), ("linear", nn.Linear(Features(shape), 1)));
    }

    private static nn.Module<Tensor, Tensor> Mlp(IReadOnlyList<int> shape, int classCount, int hidden) =>
        nn.Sequential(
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(Features(shape), hidden)),
            ("relu", nn.ReLU()),
            ("fc2", nn.Linear(hidden, Math.Max(classCount, 1))));
}

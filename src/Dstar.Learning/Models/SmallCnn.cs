using TorchSharp;
using static TorchSharp.torch;

namespace Dstar.Learning.Models;

/// <summary>
/// <c>small-cnn</c>: two 5×5 convolutions (32 and 64 channels, each ReLU then 2×2 max-pool) and two linear layers
/// (hidden 128, ReLU), the usual small network of the Byzantine-robust SGD literature for (Fashion-)MNIST. On 1×28×28
/// inputs with 10 classes it has 184,586 parameters. Inputs: [B, C, H, W] with H, W ≥ 12.
/// </summary>
public static class SmallCnn
{
    /// <summary>Builds it for [channels, height, width] samples and <paramref name="classCount"/> ≥ 1 outputs.</summary>
    /// <exception cref="ArgumentException">the shape is not [C, H, W] with H, W ≥ 12, or there are no classes.</exception>
    public static nn.Module<Tensor, Tensor> Create(IReadOnlyList<int> shape, int classCount, int hidden = 128)
    {
        if (shape.Count != 3 || shape[1] < 12 || shape[2] < 12)
        {
            throw new ArgumentException($"small-cnn needs image samples [C, H, W] with H, W ≥ 12, got [{string.Join(", ", shape)}]");
        }

        if (classCount < 1)
        {
            throw new ArgumentException("small-cnn is a classifier: the data set has no classes");
        }

        // Each 5×5 convolution (no padding) removes 4 pixels, each pool halves (rounding down).
        int height = ((shape[1] - 4) / 2 - 4) / 2, width = ((shape[2] - 4) / 2 - 4) / 2;
        return nn.Sequential(
            ("conv1", nn.Conv2d(shape[0], 32, 5)),
            ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(32, 64, 5)),
            ("relu2", nn.ReLU()),
            ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(64L * height * width, hidden)),
            ("relu3", nn.ReLU()),
            ("fc2", nn.Linear(hidden, classCount)));
    }
}

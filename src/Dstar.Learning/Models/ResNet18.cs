using TorchSharp;
using static TorchSharp.torch;

namespace Dstar.Learning.Models;

/// <summary>
/// <c>resnet18</c>: ResNet-18 (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016) in its CIFAR
/// form: a 3×3 stem convolution without max-pooling, four stages of two basic blocks (64, 128, 256, 512 channels;
/// stride 2 from the second stage), global average pooling and one linear layer. 11.2 M parameters for 10 classes.
/// Normalisation is <c>norm=batch</c> (BatchNorm, as in the paper; its running statistics are buffers, not part of the
/// flat parameter vector, and are updated by every training-mode forward pass of the shared model) or
/// <c>norm=group</c> (GroupNorm with 32 groups: no hidden state, so every worker's gradient depends only on θ).
/// </summary>
public sealed class ResNet18 : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _stem;
    private readonly nn.Module<Tensor, Tensor> _stages;
    private readonly nn.Module<Tensor, Tensor> _head;

    /// <summary>Builds it for [3, H, W] samples (H, W ≥ 8) and <paramref name="classCount"/> outputs.</summary>
    /// <exception cref="ArgumentException">the shape or class count does not fit, or <paramref name="groupNorm"/> is unusable.</exception>
    public ResNet18(IReadOnlyList<int> shape, int classCount, bool groupNorm) : base("resnet18")
    {
        if (shape.Count != 3 || shape[1] < 8 || shape[2] < 8)
        {
            throw new ArgumentException($"resnet18 needs image samples [C, H, W] with H, W ≥ 8, got [{string.Join(", ", shape)}]");
        }

        if (classCount < 1)
        {
            throw new ArgumentException("resnet18 is a classifier: the data set has no classes");
        }

        _stem = nn.Sequential(
            ("conv", nn.Conv2d(shape[0], 64, 3, padding: 1, bias: false)),
            ("norm", Norm(64, groupNorm)),
            ("relu", nn.ReLU()));
        var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
        int channels = 64;
        foreach (var (width, stride, stage) in new[] { (64, 1, 1), (128, 2, 2), (256, 2, 3), (512, 2, 4) })
        {
            blocks.Add(($"layer{stage}_0", new BasicBlock(channels, width, stride, groupNorm)));
            blocks.Add(($"layer{stage}_1", new BasicBlock(width, width, 1, groupNorm)));
            channels = width;
        }

        _stages = nn.Sequential(blocks);
        _head = nn.Sequential(("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(512, classCount)));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return _head.forward(_stages.forward(_stem.forward(input))).MoveToOuterDisposeScope();
    }

    internal static nn.Module<Tensor, Tensor> Norm(int channels, bool groupNorm) =>
        groupNorm ? nn.GroupNorm(32, channels) : nn.BatchNorm2d(channels);

    /// <summary>Two 3×3 convolutions with a skip connection (a 1×1 projection when the shape changes).</summary>
    private sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _main;
        private readonly nn.Module<Tensor, Tensor>? _shortcut;

        public BasicBlock(int input, int output, int stride, bool groupNorm) : base("basic_block")
        {
            _main = nn.Sequential(
                ("conv1", nn.Conv2d(input, output, 3, stride: stride, padding: 1, bias: false)),
                ("norm1", Norm(output, groupNorm)),
                ("relu", nn.ReLU()),
                ("conv2", nn.Conv2d(output, output, 3, padding: 1, bias: false)),
                ("norm2", Norm(output, groupNorm)));
            if (stride != 1 || input != output)
            {
                _shortcut = nn.Sequential(
                    ("conv", nn.Conv2d(input, output, 1, stride: stride, bias: false)),
                    ("norm", Norm(output, groupNorm)));
            }

            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var skip = _shortcut is null ? input : _shortcut.forward(input);
            return nn.functional.relu(_main.forward(input) + skip).MoveToOuterDisposeScope();
        }
    }
}

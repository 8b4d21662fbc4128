using Dstar.Core.Specs;
using Dstar.Learning.Models;
using TorchSharp;
using Xunit;

namespace Dstar.Learning.Tests;

public class ModelTests
{
    private static long ParameterCount(torch.nn.Module<torch.Tensor, torch.Tensor> model) => model.parameters().Sum(p => p.numel());

    private static long[] OutputShape(torch.nn.Module<torch.Tensor, torch.Tensor> model, params long[] inputShape)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        model.eval();
        return model.forward(torch.randn(inputShape)).shape;
    }

    [Theory]
    [InlineData("logreg", 784 * 10 + 10)]
    [InlineData("mlp hidden=32", 784 * 32 + 32 + 32 * 10 + 10)]
    // conv1 1·32·25+32, conv2 32·64·25+64, fc1 1024·128+128, fc2 128·10+10
    [InlineData("small-cnn", 832 + 51_264 + 131_200 + 1_290)]
    public void Models_for_28x28_images_have_the_stated_size_and_output(string spec, long parameters)
    {
        using var model = ModelCatalog.Create(spec).Build([1, 28, 28], 10, seed: 1);
        Assert.Equal(parameters, ParameterCount(model));
        Assert.Equal([3, 10], OutputShape(model, 3, 1, 28, 28));
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet18 norm=group")]
    public void Resnet18_maps_cifar_images_to_class_logits(string spec)
    {
        using var model = ModelCatalog.Create(spec).Build([3, 32, 32], 10, seed: 1);
        // 11,173,962 is ResNet-18's CIFAR-10 size (BatchNorm and GroupNorm have the same affine parameters).
        Assert.Equal(11_173_962, ParameterCount(model));
        Assert.Equal([2, 10], OutputShape(model, 2, 3, 32, 32));
    }

    [Fact]
    public void Same_seed_same_initial_parameters()
    {
        var definition = ModelCatalog.Create("small-cnn");
        using var a = definition.Build([1, 28, 28], 10, seed: 5);
        using var b = definition.Build([1, 28, 28], 10, seed: 5);
        using var c = definition.Build([1, 28, 28], 10, seed: 6);
        var first = a.parameters().First().data<float>().ToArray();
        Assert.Equal(first, b.parameters().First().data<float>().ToArray());
        Assert.NotEqual(first, c.parameters().First().data<float>().ToArray());
    }

    [Fact]
    public void Unsuitable_shapes_and_specs_are_refused_with_reasons()
    {
        Assert.Contains("28×28", ModelCatalog.Models.Entries.Single(e => e.Name == "small-cnn").Summary);
        Assert.Contains("[10]", Assert.Throws<ArgumentException>(() => ModelCatalog.Create("small-cnn").Build([10], 2, 1)).Message);
        Assert.Contains("linreg", Assert.Throws<ArgumentException>(() => ModelCatalog.Create("logreg").Build([5], 0, 1)).Message);
        Assert.Contains("norm", Assert.Throws<SpecException>(() => ModelCatalog.Create("resnet18 norm=layer")).Message);
        Assert.Contains("small-cnn", Assert.Throws<SpecException>(() => ModelCatalog.Create("vgg")).Message);
    }
}

using TorchSharp;
using Xunit;

namespace Dstar.Learning.Tests;

public class TorchSharpLoadTests
{
    [Fact]
    public void TorchSharp_loads_and_multiplies_matrices()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var b = torch.tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        using var c = torch.matmul(a, b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }
}

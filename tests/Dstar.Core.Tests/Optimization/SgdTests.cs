using Dstar.Core.Optimization;
using Xunit;

namespace Dstar.Core.Tests.Optimization;

public class SgdTests
{
    [Fact]
    public void Plain_step_moves_against_the_gradient()
    {
        var x = new float[] { 1, 2, 3 };
        new Sgd(3, 0.5).Step(x, new float[] { 2, 0, -2 });
        Assert.Equal(new float[] { 0, 2, 4 }, x);
    }

    [Fact]
    public void Momentum_and_weight_decay_follow_the_pytorch_convention()
    {
        // Reference: v = g + λx on the first step, then v ← μv + g + λx; x ← x − ηv.
        double x = 1.0, v = 0;
        var sgd = new Sgd(1, 0.1, momentum: 0.9, weightDecay: 0.01);
        var p = new float[] { 1f };
        for (int t = 0; t < 5; t++)
        {
            double g = 0.3 * t - 0.2;
            double gd = g + 0.01 * x;
            v = t == 0 ? gd : 0.9 * v + gd;
            x -= 0.1 * v;
            sgd.Step(p, new[] { (float)g });
        }

        Assert.Equal(x, p[0], 5);
    }

    [Fact]
    public void Step_rejects_a_gradient_of_the_wrong_length()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Sgd(3, 0.1).Step(new float[3], new float[2]));
        Assert.Contains("expects 3", ex.Message);
    }
}

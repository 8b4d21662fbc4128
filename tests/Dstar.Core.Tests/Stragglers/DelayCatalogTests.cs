using Dstar.Core.Specs;
using Dstar.Core.Stragglers;
using Xunit;

namespace Dstar.Core.Tests.Stragglers;

public class DelayCatalogTests
{
    [Fact]
    public void Every_model_is_registered_and_the_simple_ones_build_from_their_name()
    {
        Assert.Equal(new[] { "shifted-exp", "pareto", "lognormal", "bimodal", "constant", "crash", "trace" }, Registry.Delays.Names);
        foreach (var name in new[] { "shifted-exp", "pareto", "lognormal", "bimodal", "constant" })
        {
            Assert.Equal(name, Registry.Delays.Create(name).Name);
        }
    }

    [Fact]
    public void Parameters_reach_the_model()
    {
        var exp = (ShiftedExponential)Registry.Delays.Create("shifted-exp shift=0 rate=4 speeds=1,2.5");
        Assert.Equal((0.0, 4.0), (exp.Shift, exp.Rate));
        Assert.Equal(new[] { 1, 2.5 }, exp.Speeds);
        var pareto = (Pareto)Registry.Delays.Create("pareto xm=2 alpha=3");
        Assert.Equal((2.0, 3.0), (pareto.Scale, pareto.Shape));
        var log = (LogNormal)Registry.Delays.Create("lognormal mu=-1 sigma=0.5");
        Assert.Equal((-1.0, 0.5), (log.Mu, log.Sigma));
        var bimodal = (Bimodal)Registry.Delays.Create("bimodal p=0.5 slowdown=4 base=2 persistent=false seed=3");
        Assert.Equal((0.5, 4.0, 2.0, false, 3), (bimodal.Probability, bimodal.Slowdown, bimodal.BaseTime, bimodal.Persistent, bimodal.Seed));
        Assert.Equal(0.2, ((ConstantDelay)Registry.Delays.Create("constant time=0.2")).Time);
    }

    [Fact]
    public void Unknown_model_and_unknown_parameter_list_the_valid_ones()
    {
        var e = Assert.Throws<SpecException>(() => Registry.Delays.Create("weibull"));
        Assert.Contains("pareto", e.Message);
        Assert.Contains("trace", e.Message);
        e = Assert.Throws<SpecException>(() => Registry.Delays.Create("pareto shape=2"));
        Assert.Contains("xm, alpha", e.Message);
    }

    [Theory]
    [InlineData("shifted-exp rate=0", "rate=0")]
    [InlineData("shifted-exp rate=-1", "rate=-1")]
    [InlineData("shifted-exp shift=-1", "shift=-1")]
    [InlineData("shifted-exp shift=nan", "shift=nan")]
    [InlineData("shifted-exp speeds=1,0", "speeds=0")]
    [InlineData("shifted-exp speeds=1,x", "speeds=1,x")]
    [InlineData("pareto xm=0", "xm=0")]
    [InlineData("pareto alpha=-1.5", "alpha=-1.5")]
    [InlineData("pareto alpha=NaN", "alpha=NaN")]
    [InlineData("lognormal sigma=0", "sigma=0")]
    [InlineData("lognormal mu=inf", "mu=inf")]
    [InlineData("bimodal p=1.5", "p=1.5")]
    [InlineData("bimodal slowdown=0.5", "slowdown=0.5")]
    [InlineData("bimodal base=0", "base=0")]
    [InlineData("bimodal persistent=maybe", "persistent=maybe")]
    [InlineData("constant time=0", "time=0")]
    [InlineData("constant time=-2", "time=-2")]
    [InlineData("trace file=x.csv after-end=loop", "after-end=loop")]
    public void Bad_values_are_refused_naming_the_model_and_value(string spec, string value)
    {
        var e = Assert.Throws<SpecException>(() => Registry.Delays.Create(spec));
        Assert.Contains($"'{spec.Split(' ')[0]}'", e.Message);
        Assert.Contains(value, e.Message);
    }
}

using Dstar.Core.Attacks;
using Dstar.Core.Specs;
using Xunit;

namespace Dstar.Core.Tests.Attacks;

public class AttackCatalogTests
{
    private static readonly string[] Omniscient =
        ["sign-flip", "alie", "ipm", "optimal-alie", "optimal-ipm", "mimic", "min-max", "min-sum", "fang", "rop", "poisoned-fl", "adaptive-dstar"];

    [Fact]
    public void Every_attack_builds_from_its_name_and_reports_it()
    {
        var names = Registry.Attacks.Names.ToArray();
        Assert.Equal(
            new[] { "sign-flip", "gaussian", "non-finite", "alie", "ipm", "optimal-alie", "optimal-ipm", "mimic", "min-max", "min-sum", "fang", "rop", "poisoned-fl", "adaptive-dstar" },
            names);
        foreach (var name in names)
        {
            var attack = Registry.Attacks.Create(name);
            Assert.Equal(name, attack.Name);
            Assert.Equal(Omniscient.Contains(name), attack.IsOmniscient);
        }
    }

    [Fact]
    public void Parameters_reach_the_attack()
    {
        Assert.Equal(2.5, ((GaussianNoise)Registry.Attacks.Create("gaussian sigma=2.5")).Sigma);
        Assert.Equal(NonFiniteKind.Huge, ((NonFiniteValues)Registry.Attacks.Create("non-finite kind=huge")).Kind);
        Assert.Equal(NonFiniteKind.NotANumber, ((NonFiniteValues)Registry.Attacks.Create("non-finite")).Kind);
        Assert.Equal(-0.5, ((Alie)Registry.Attacks.Create("alie z=-0.5")).Z);
        Assert.Null(((Alie)Registry.Attacks.Create("alie")).Z);
        Assert.Equal(100, ((InnerProductManipulation)Registry.Attacks.Create("ipm epsilon=100")).Epsilon);
        Assert.Equal(0.1, ((InnerProductManipulation)Registry.Attacks.Create("ipm")).Epsilon);
        var ipm = (OptimalInnerProductManipulation)Registry.Attacks.Create("optimal-ipm low=0.5 high=50 grid=5 refine=3");
        Assert.Equal((0.5, 50.0, 5, 3), (ipm.Low, ipm.High, ipm.Grid, ipm.Refine));
        var alie = (OptimalAlie)Registry.Attacks.Create("optimal-alie high=4");
        Assert.Equal((0.0, 4.0, 21, 20), (alie.Low, alie.High, alie.Grid, alie.Refine));
        Assert.Equal(7, ((Mimic)Registry.Attacks.Create("mimic iterations=7")).Iterations);
        Assert.Equal(PerturbationDirection.Sign, ((MinMax)Registry.Attacks.Create("min-max direction=sign")).Direction);
        Assert.Equal(PerturbationDirection.UnitMean, ((MinSum)Registry.Attacks.Create("min-sum direction=unit")).Direction);
        Assert.Equal(PerturbationDirection.StandardDeviation, ((MinSum)Registry.Attacks.Create("min-sum")).Direction);
        var adaptive = (AdaptiveDstar)Registry.Attacks.Create("adaptive-dstar tau=1.5 direction=unit reference=median-deviation batch-ratio=2 margin=0");
        Assert.Equal((1.5, PerturbationDirection.UnitMean, false, 2.0, 0.0),
            (adaptive.Tau, adaptive.Direction, adaptive.UseValidationReference, adaptive.BatchRatio, adaptive.Margin));
    }

    [Fact]
    public void Unknown_attack_lists_the_valid_names()
    {
        var e = Assert.Throws<SpecException>(() => Registry.Attacks.Create("little-is-enough"));
        Assert.Contains("little-is-enough", e.Message);
        Assert.Contains("alie", e.Message);
        Assert.Contains("adaptive-dstar", e.Message);
    }

    [Theory]
    [InlineData("sign-flip scale=2", "it takes no parameters")]
    [InlineData("gaussian std=2", "sigma")]
    [InlineData("ipm eps=1", "epsilon")]
    [InlineData("min-max dir=std", "direction")]
    [InlineData("adaptive-dstar t=2", "tau")]
    public void Unknown_parameter_lists_the_valid_ones(string spec, string listed)
    {
        var e = Assert.Throws<SpecException>(() => Registry.Attacks.Create(spec));
        Assert.Contains(listed, e.Message);
    }

    [Theory]
    [InlineData("gaussian sigma=0", "sigma=0")]
    [InlineData("gaussian sigma=-1", "sigma=-1")]
    [InlineData("gaussian sigma=nan", "sigma=nan")]
    [InlineData("non-finite kind=zero", "kind=zero")]
    [InlineData("alie z=abc", "z=abc")]
    [InlineData("alie z=inf", "z=inf")]
    [InlineData("ipm epsilon=0", "epsilon=0")]
    [InlineData("ipm epsilon=-0.1", "epsilon=-0.1")]
    [InlineData("optimal-ipm low=0", "low=0")]
    [InlineData("optimal-ipm low=5 high=1", "high=1")]
    [InlineData("optimal-alie grid=1", "grid=1")]
    [InlineData("optimal-alie refine=500", "refine=500")]
    [InlineData("optimal-alie low=3 high=3", "high=3")]
    [InlineData("mimic iterations=0", "iterations=0")]
    [InlineData("min-max direction=diagonal", "direction=diagonal")]
    [InlineData("min-sum direction=1", "direction=1")]
    [InlineData("fang b=1", "b=1")]
    [InlineData("rop lambda=2", "lambda=2")]
    [InlineData("rop scale=0", "scale=0")]
    [InlineData("poisoned-fl window=0", "window=0")]
    [InlineData("poisoned-fl decay=0", "decay=0")]
    [InlineData("adaptive-dstar tau=0", "tau=0")]
    [InlineData("adaptive-dstar margin=1", "margin=1")]
    [InlineData("adaptive-dstar batch-ratio=-2", "batch-ratio=-2")]
    [InlineData("adaptive-dstar reference=krum", "reference=krum")]
    public void Bad_values_are_refused_naming_the_attack_and_value(string spec, string value)
    {
        var e = Assert.Throws<SpecException>(() => Registry.Attacks.Create(spec));
        Assert.Contains($"'{spec.Split(' ')[0]}'", e.Message);
        Assert.Contains(value, e.Message);
    }

    [Fact]
    public void Omniscient_attacks_refuse_an_empty_honest_batch()
    {
        var empty = new GradientBatch(1, 4) { Count = 0 };
        foreach (var name in Omniscient)
        {
            var attack = Registry.Attacks.Create(name);
            var context = new AttackContext(3, 3, new Random(0)) { Pipeline = Registry.Pipeline("mean") };
            var e = Assert.Throws<AttackException>(() => attack.Craft(empty, context, new GradientBatch(3, 4)));
            Assert.Contains(name, e.Message);
            Assert.Contains("honest", e.Message);
        }
    }

    [Fact]
    public void Attack_context_refuses_impossible_counts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AttackContext(0, 0, new Random(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AttackContext(5, -1, new Random(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AttackContext(5, 6, new Random(0)));
        Assert.Throws<ArgumentNullException>(() => new AttackContext(5, 2, null!));
    }
}

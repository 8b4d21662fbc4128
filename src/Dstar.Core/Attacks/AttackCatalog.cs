using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>The registry entries of every attack; each reads its parameters with their defaults.</summary>
internal static class AttackCatalog
{
    public static IEnumerable<CatalogEntry<IAttack>> Entries =>
    [
        new("sign-flip", "b = −μ", _ => new SignFlip()),
        new("gaussian", "b ~ N(0, σ²I) per row [sigma=1]",
            a => ParameterChecks.Build(() => new GaussianNoise(a.Double("sigma", 1)))),
        new("non-finite", "NaN, +∞ or float.MaxValue rows [kind=nan|inf|huge]",
            a => new NonFiniteValues(a.Choice("kind", "nan", "nan", "inf", "huge") switch
            {
                "nan" => NonFiniteKind.NotANumber,
                "inf" => NonFiniteKind.Infinity,
                _ => NonFiniteKind.Huge,
            })),
        new("alie", "b = μ − zσ, z = Φ⁻¹((n−s)/n), s = ⌊n/2+1⌋ − f [z=]",
            a => ParameterChecks.Build(() => new Alie(a.Has("z") ? a.Double("z", 0) : null))),
        new("ipm", "b = −εμ [epsilon=0.1]",
            a => ParameterChecks.Build(() => new InnerProductManipulation(a.Double("epsilon", 0.1)))),
        new("optimal-alie", "ALIE with z maximising ‖agg − μ‖ through the server's pipeline [low=0] [high=10] [grid=21] [refine=20]",
            a => ParameterChecks.Build(() => new OptimalAlie(a.Double("low", 0), a.Double("high", 10), a.Int("grid", 21), a.Int("refine", 20)))),
        new("optimal-ipm", "IPM with ε maximising ‖agg − μ‖ through the server's pipeline [low=0.01] [high=100] [grid=25] [refine=20]",
            a => ParameterChecks.Build(() => new OptimalInnerProductManipulation(a.Double("low", 0.01), a.Double("high", 100), a.Int("grid", 25), a.Int("refine", 20)))),
        new("mimic", "all send the honest row farthest along the top principal direction [iterations=50]",
            a => ParameterChecks.Build(() => new Mimic(a.Int("iterations", 50)))),
        new("min-max", "b = μ + γp, largest γ with maxᵢ‖b − xᵢ‖ ≤ max‖xᵢ − xⱼ‖ [direction=std|unit|sign]",
            a => new MinMax(Direction(a))),
        new("min-sum", "b = μ + γp, largest γ with Σᵢ‖b − xᵢ‖² ≤ maxᵢ Σⱼ‖xᵢ − xⱼ‖² [direction=std|unit|sign]",
            a => new MinSum(Direction(a))),
        new("fang", "Fang et al. 2020 on trimmed mean/median: each value drawn just beyond the honest extreme opposite sign(μ) [b=2]",
            a => ParameterChecks.Build(() => new Fang(a.Double("b", 2)))),
        new("rop", "relocated orthogonal perturbation: b = r + γp̂, r = λv + (1−λ)μ, p̂ ⊥ r [lambda=0.9] [scale=1]",
            a => ParameterChecks.Build(() => new Rop(a.Double("lambda", 0.9), a.Double("scale", 1)))),
        new("poisoned-fl", "PoisonedFL-style: b = −λₜ·s ⊙ |μ| with one sign vector s for the whole run [lambda=2] [window=10] [decay=0.7]",
            a => ParameterChecks.Build(() => new PoisonedFl(a.Double("lambda", 2), a.Int("window", 10), a.Double("decay", 0.7)))),
        new("adaptive-dstar", "b = μ + γp at the edge of the dSTAR filter [tau=2] [direction=std|unit|sign] [reference=validation|median-deviation] [batch-ratio=1] [margin=0.001]",
            a => ParameterChecks.Build(() => new AdaptiveDstar(
                a.Double("tau", 2),
                Direction(a),
                a.Choice("reference", "validation", "validation", "median-deviation") == "validation",
                a.Double("batch-ratio", 1),
                a.Double("margin", 0.001)))),
    ];

    private static PerturbationDirection Direction(SpecArguments args) =>
        Perturbation.Parse(args.Choice("direction", "std", Perturbation.Names));
}

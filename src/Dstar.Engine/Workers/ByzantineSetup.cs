using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Specs;
using Dstar.Engine.Configuration;

namespace Dstar.Engine.Workers;

/// <summary>When Byzantine workers answer.</summary>
public enum ByzantineTiming
{
    /// <summary>At time 0: they compute nothing, so they can always be among the first k.</summary>
    Fast,

    /// <summary>At a time drawn from the same delay model as an honest worker.</summary>
    Honest,
}

/// <summary>The Byzantine workers of a run: who they are, what they send, and when.</summary>
/// <param name="Set">Their ids (the last f).</param>
/// <param name="Attack">The attack that crafts their gradients; null when they train on flipped labels instead.</param>
/// <param name="Timing">When they answer.</param>
public sealed record ByzantineSetup(ByzantineSet Set, IAttack? Attack, ByzantineTiming Timing)
{
    /// <summary>Their ids, ascending (<see cref="ByzantineSet.Workers"/>).</summary>
    public IReadOnlyList<int> Workers => Set.Workers;

    /// <summary>True for the data-level label-flip attack (no crafted gradient: they train on y' = C − 1 − y).</summary>
    public bool FlipsLabels => Attack is null;

    /// <summary>
    /// The Byzantine workers of <paramref name="config"/> (its <c>byzantine</c>, <c>attack</c> and <c>attack_timing</c>
    /// keys), or null when f = 0. <paramref name="attack"/> replaces the config's crafting attack when given.
    /// </summary>
    /// <exception cref="SpecException">the attack spec is invalid.</exception>
    public static ByzantineSetup? Of(ExperimentConfig config, IAttack? attack = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Byzantine == 0)
        {
            return null;
        }

        if (attack is null && Spec.Parse(config.Attack!).Name != ConfigValidator.LabelFlip)
        {
            attack = Registry.Attacks.Create(config.Attack!);
        }

        return new ByzantineSetup(ByzantineSet.Of(config), attack, config.AttackTiming == "fast" ? ByzantineTiming.Fast : ByzantineTiming.Honest);
    }
}

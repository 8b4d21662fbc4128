namespace Dstar.Engine.Workers;

/// <summary>When simulated Byzantine workers answer.</summary>
public enum ByzantineTiming
{
    /// <summary>At virtual time 0: they compute nothing, so they can always be among the first k.</summary>
    Fast,

    /// <summary>At a time drawn from the same delay model as an honest worker.</summary>
    Honest,
}

/// <summary>The simulated Byzantine workers of a run.</summary>
/// <param name="Workers">Their ids (distinct, within 0..N−1).</param>
/// <param name="Attack">The attack that crafts their gradients; null when they train on flipped labels instead.</param>
/// <param name="Timing">When they answer.</param>
public sealed record ByzantineSetup(IReadOnlyList<int> Workers, Core.Attacks.IAttack? Attack, ByzantineTiming Timing)
{
    /// <summary>True for the data-level label-flip attack (no crafted gradient: they train on y' = C − 1 − y).</summary>
    public bool FlipsLabels => Attack is null;
}

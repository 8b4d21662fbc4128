using Dstar.Core.Specs;

namespace Dstar.Core.Attacks;

/// <summary>What the <see cref="NonFiniteValues"/> attack writes.</summary>
public enum NonFiniteKind
{
    /// <summary><c>nan</c>: every value NaN.</summary>
    NotANumber,

    /// <summary><c>inf</c>: every value +∞.</summary>
    Infinity,

    /// <summary><c>huge</c>: every value <see cref="float.MaxValue"/> (finite, but any sum of two overflows to +∞).</summary>
    Huge,
}

/// <summary>
/// Non-finite or enormous rows: checks that the server rejects them and never crashes or steps on NaN.
/// Spec: <c>non-finite [kind=nan|inf|huge]</c> (default <c>nan</c>). Not omniscient. Cost O(f·d).
/// </summary>
public sealed class NonFiniteValues : IAttack
{
    /// <summary>Creates the attack writing values of <paramref name="kind"/>.</summary>
    public NonFiniteValues(NonFiniteKind kind = NonFiniteKind.NotANumber)
    {
        if (!Enum.IsDefined(kind))
        {
            throw ParameterChecks.Fail("non-finite", "kind", kind, "nan, inf or huge");
        }

        Kind = kind;
    }

    /// <summary>The kind of value written.</summary>
    public NonFiniteKind Kind { get; }

    /// <summary>The value written into every coordinate.</summary>
    public float Value => Kind switch
    {
        NonFiniteKind.NotANumber => float.NaN,
        NonFiniteKind.Infinity => float.PositiveInfinity,
        _ => float.MaxValue,
    };

    /// <inheritdoc />
    public string Name => "non-finite";

    /// <inheritdoc />
    public bool IsOmniscient => false;

    /// <inheritdoc />
    public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
    {
        AttackChecks.Shapes(Name, honest, byzantine, needsHonest: false);
        byzantine.AsSpan().Fill(Value);
    }
}

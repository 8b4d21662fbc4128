namespace Dstar.Learning.Oracle;

/// <summary>Settings of a <see cref="TorchGradientOracle"/>, each with its default.</summary>
public sealed record TorchGradientOracleOptions
{
    /// <summary>λ ≥ 0 of the (λ/2)‖θ‖² term in the training objective (default 0). Synthetic problems need theirs.</summary>
    public double L2 { get; init; }

    /// <summary>Samples per forward pass in evaluation (default 1000).</summary>
    public int EvaluationBatchSize { get; init; } = 1000;

    /// <summary>The minibatch size the input buffer is first made for (default 64; it grows on demand).</summary>
    public int InitialBatchCapacity { get; init; } = 64;

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a negative or non-finite λ, or a batch size below 1.</exception>
    public void Validate()
    {
        if (!(L2 >= 0) || !double.IsFinite(L2))
        {
            throw new ArgumentOutOfRangeException(nameof(L2), $"L2 must be a finite number ≥ 0, got {L2}");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(EvaluationBatchSize, 1, nameof(EvaluationBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialBatchCapacity, 1, nameof(InitialBatchCapacity));
    }
}

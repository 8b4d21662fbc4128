namespace Dstar.Learning;

/// <summary>
/// An oracle whose test-set evaluation is a fixed sequence of batches, each scored on its own and summed in order:
/// replicas of the oracle can score different batches at once, and <see cref="Combine"/> gives exactly what
/// <see cref="IGradientOracle.Evaluate"/> gives (it is the same sum, in the same order).
/// </summary>
public interface IBatchedEvaluation
{
    /// <summary>How many batches the test set is scored in.</summary>
    int EvaluationBatches { get; }

    /// <summary>Batch <paramref name="batch"/>'s score at the current parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException">no such batch.</exception>
    EvaluationPart EvaluateBatch(int batch);

    /// <summary>The evaluation of every batch's score, in batch order.</summary>
    /// <exception cref="ArgumentException">not one score per batch.</exception>
    Evaluation Combine(ReadOnlySpan<EvaluationPart> parts);
}

/// <summary>One evaluation batch's score: the sum of its samples' losses (as torch returns it), correct predictions, and samples.</summary>
public readonly record struct EvaluationPart(double LossSum, long Correct, int Count);

namespace Dstar.Learning.Partitioning;

/// <summary>
/// The parameter server's trusted validation split: a seeded random subset of the training set, held out from every
/// worker. The test set is a separate file, so the split is also disjoint from it.
/// </summary>
public static class ValidationSplit
{
    /// <summary>Splits 0..trainCount−1 into the validation indices and the pool the workers share.</summary>
    /// <param name="trainCount">The training-set size.</param>
    /// <param name="validationCount">How many samples the server keeps (0 for none).</param>
    /// <param name="seed">Same seed, same split.</param>
    /// <returns>Both arrays sorted ascending.</returns>
    /// <exception cref="ArgumentOutOfRangeException">a negative count, or a validation split that leaves no training sample.</exception>
    public static (int[] Validation, int[] Pool) HoldOut(int trainCount, int validationCount, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trainCount);
        if (validationCount < 0 || validationCount >= trainCount)
        {
            throw new ArgumentOutOfRangeException(nameof(validationCount),
                $"a validation split of {validationCount} must be ≥ 0 and leave training samples out of {trainCount}");
        }

        var order = Enumerable.Range(0, trainCount).ToArray();
        new Random(seed).Shuffle(order);
        var validation = order[..validationCount];
        var pool = order[validationCount..];
        Array.Sort(validation);
        Array.Sort(pool);
        return (validation, pool);
    }
}

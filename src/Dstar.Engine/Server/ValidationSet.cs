using Dstar.Learning;

namespace Dstar.Engine.Server;

/// <summary>
/// The parameter server's trusted validation split: training-set samples held out from every worker and from the test
/// set. Each round the server draws b_v of them and computes g₀ = ∇F_val(x_t) on that minibatch (sampled with
/// replacement, from the round's <see cref="Randomness.StreamPurpose.Validation"/> stream).
/// </summary>
public sealed class ValidationSet
{
    private readonly int[] _indices;
    private readonly int[] _batch;

    /// <summary>Wraps an oracle, the held-out sample indices and the batch size b_v.</summary>
    /// <exception cref="ArgumentException">no indices, or a non-positive batch size.</exception>
    public ValidationSet(IGradientOracle oracle, IReadOnlyList<int> indices, int batchSize)
    {
        Oracle = oracle ?? throw new ArgumentNullException(nameof(oracle));
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Count == 0)
        {
            throw new ArgumentException("the validation split is empty; set data.validation_size ≥ 1", nameof(indices));
        }

        if (batchSize < 1)
        {
            throw new ArgumentException($"validation batch size must be ≥ 1, got {batchSize}", nameof(batchSize));
        }

        _indices = indices.ToArray();
        _batch = new int[batchSize];
    }

    /// <summary>The oracle the server computes g₀ with.</summary>
    public IGradientOracle Oracle { get; }

    /// <summary>b_v.</summary>
    public int BatchSize => _batch.Length;

    /// <summary>How many samples the split holds.</summary>
    public int Count => _indices.Length;

    /// <summary>Draws this round's minibatch with <paramref name="random"/>, computes g₀ at x into <paramref name="gradient"/>, returns the minibatch loss.</summary>
    public double ComputeGradient(ReadOnlySpan<float> parameters, Random random, Span<float> gradient)
    {
        for (int i = 0; i < _batch.Length; i++)
        {
            _batch[i] = _indices[random.Next(_indices.Length)];
        }

        Oracle.SetParameters(parameters);
        return Oracle.ComputeGradient(_batch, gradient);
    }

    /// <summary>F_val at <paramref name="parameters"/> on the round's minibatch (Zeno's loss); changes the oracle's parameters.</summary>
    public double Loss(ReadOnlySpan<float> parameters)
    {
        Oracle.SetParameters(parameters);
        return Oracle.Loss(_batch);
    }
}

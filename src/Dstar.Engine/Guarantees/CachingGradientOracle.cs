using Dstar.Learning;

namespace Dstar.Engine.Guarantees;

/// <summary>
/// An <see cref="IGradientOracle"/> that remembers every minibatch gradient it computed at the current parameters, so
/// that many simulated transports drawing the same minibatches at the same point x (every rule and attack of a
/// resilience study) pay for each honest gradient once. A minibatch is identified by its exact sample indices and the
/// label-flip flag; the memory is cleared whenever <see cref="SetParameters"/> receives a different x.
/// </summary>
/// <remarks>
/// The inner oracle is shared, not owned: it is never disposed here, and other users (the server's validation set)
/// may load parameters into it between calls. That is safe because the callers of a resilience estimate only ever load
/// the same x. Memory: at most <see cref="CapacityValues"/> floats of gradients; beyond that, gradients are computed
/// and not remembered.
/// </remarks>
public sealed class CachingGradientOracle : IGradientOracle
{
    private readonly IGradientOracle _inner;
    private readonly Dictionary<MinibatchKey, float[]> _gradients = new();
    private readonly float[] _parameters;
    private bool _hasParameters;
    private long _storedValues;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The oracle that computes on a miss (not owned).</param>
    /// <param name="capacityValues">The most gradient floats kept at one x (default 256 M floats, 1 GiB).</param>
    public CachingGradientOracle(IGradientOracle inner, long capacityValues = 1L << 28)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        ArgumentOutOfRangeException.ThrowIfNegative(capacityValues);
        CapacityValues = capacityValues;
        _parameters = new float[inner.ParameterCount];
    }

    /// <inheritdoc />
    public int ParameterCount => _inner.ParameterCount;

    /// <summary>The most gradient floats remembered at one x.</summary>
    public long CapacityValues { get; }

    /// <summary>Gradients served from memory since creation.</summary>
    public long Hits { get; private set; }

    /// <summary>Gradients computed by the inner oracle since creation.</summary>
    public long Misses { get; private set; }

    /// <inheritdoc />
    public void SetParameters(ReadOnlySpan<float> parameters)
    {
        if (parameters.Length != _parameters.Length)
        {
            throw new ArgumentException($"parameters have {parameters.Length} values, the model {_parameters.Length}", nameof(parameters));
        }

        if (!_hasParameters || !parameters.SequenceEqual(_parameters))
        {
            _gradients.Clear();
            _storedValues = 0;
            parameters.CopyTo(_parameters);
            _hasParameters = true;
        }

        _inner.SetParameters(parameters);
    }

    /// <inheritdoc />
    public void GetParameters(Span<float> destination) => _inner.GetParameters(destination);

    /// <inheritdoc />
    /// <remarks>The mean loss is not remembered: a gradient served from memory returns NaN as its loss.</remarks>
    public double ComputeGradient(ReadOnlySpan<int> sampleIndices, Span<float> gradient, bool flipLabels = false)
    {
        var key = new MinibatchKey(sampleIndices.ToArray(), flipLabels);
        if (_hasParameters && _gradients.TryGetValue(key, out var stored))
        {
            Hits++;
            stored.CopyTo(gradient);
            return double.NaN;
        }

        // The inner oracle may hold another x by now (the validation set shares it): load ours back first.
        if (_hasParameters)
        {
            _inner.SetParameters(_parameters);
        }

        Misses++;
        double loss = _inner.ComputeGradient(sampleIndices, gradient, flipLabels);
        if (_hasParameters && _storedValues + gradient.Length <= CapacityValues)
        {
            _gradients[key] = gradient.ToArray();
            _storedValues += gradient.Length;
        }

        return loss;
    }

    /// <inheritdoc />
    public double Loss(ReadOnlySpan<int> sampleIndices) => _inner.Loss(sampleIndices);

    /// <inheritdoc />
    public Evaluation Evaluate() => _inner.Evaluate();

    /// <summary>Forgets the stored gradients; the inner oracle is not disposed (it is not owned).</summary>
    public void Dispose()
    {
        _gradients.Clear();
        _storedValues = 0;
    }

    private readonly struct MinibatchKey : IEquatable<MinibatchKey>
    {
        private readonly int[] _indices;
        private readonly bool _flip;
        private readonly int _hash;

        public MinibatchKey(int[] indices, bool flip)
        {
            _indices = indices;
            _flip = flip;
            var hash = new HashCode();
            hash.Add(flip);
            foreach (var i in indices)
            {
                hash.Add(i);
            }

            _hash = hash.ToHashCode();
        }

        public bool Equals(MinibatchKey other) => _flip == other._flip && _indices.AsSpan().SequenceEqual(other._indices);

        public override bool Equals(object? obj) => obj is MinibatchKey other && Equals(other);

        public override int GetHashCode() => _hash;
    }
}

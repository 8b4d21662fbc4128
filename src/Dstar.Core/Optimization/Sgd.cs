using System.Numerics.Tensors;

namespace Dstar.Core.Optimization;

/// <summary>
/// SGD on a flat parameter vector with heavy-ball momentum and L2 weight decay, in PyTorch's convention:
/// g' = g + λx; v ← μv + g'; x ← x − η v (v = g' when μ = 0).
/// </summary>
public sealed class Sgd
{
    private readonly float[] _velocity;
    private bool _hasVelocity;

    /// <summary>Creates an optimizer for <paramref name="dimension"/> parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a non-positive dimension or learning rate, or momentum/weight decay outside their ranges.</exception>
    public Sgd(int dimension, double learningRate, double momentum = 0, double weightDecay = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), $"learning rate must be a positive number, got {learningRate}");
        }

        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), $"momentum must be in [0, 1), got {momentum}");
        }

        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), $"weight decay must be ≥ 0, got {weightDecay}");
        }

        _velocity = new float[dimension];
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    /// <summary>η.</summary>
    public double LearningRate { get; set; }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <summary>λ.</summary>
    public double WeightDecay { get; }

    /// <summary>The momentum buffer v (for checkpoints).</summary>
    public Span<float> Velocity => _velocity;

    /// <summary>Whether the momentum buffer has been initialised (for checkpoints).</summary>
    public bool HasVelocity
    {
        get => _hasVelocity;
        set => _hasVelocity = value;
    }

    /// <summary>Applies one step to <paramref name="parameters"/> with <paramref name="gradient"/>. Allocates nothing.</summary>
    /// <exception cref="ArgumentException">the lengths differ from the optimizer's dimension.</exception>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradient)
    {
        if (parameters.Length != _velocity.Length || gradient.Length != _velocity.Length)
        {
            throw new ArgumentException($"SGD expects {_velocity.Length} parameters and gradient values, got {parameters.Length} and {gradient.Length}");
        }

        var eta = (float)LearningRate;
        if (Momentum == 0 && WeightDecay == 0)
        {
            TensorPrimitives.MultiplyAdd(gradient, -eta, parameters, parameters);
            return;
        }

        var v = _velocity.AsSpan();
        var mu = (float)Momentum;
        if (!_hasVelocity || Momentum == 0)
        {
            // v₀ = g + λx (and every v when μ = 0: one pass instead of three)
            TensorPrimitives.MultiplyAdd(parameters, (float)WeightDecay, gradient, v);
            _hasVelocity = true;
        }
        else
        {
            // v ← μv + g + λx
            TensorPrimitives.Multiply(v, mu, v);
            TensorPrimitives.Add(v, gradient, v);
            TensorPrimitives.MultiplyAdd(parameters, (float)WeightDecay, v, v);
        }

        TensorPrimitives.MultiplyAdd(v, -eta, parameters, parameters);
    }
}

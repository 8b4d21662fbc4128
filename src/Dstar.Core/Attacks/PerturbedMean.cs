using System.Numerics.Tensors;
using Dstar.Core.Kernels;

namespace Dstar.Core.Attacks;

/// <summary>
/// b(γ) = μ + γp for the honest rows of a round, with each squared distance to an honest row kept as a quadratic in γ:
/// ‖b − xᵢ‖² = aᵢ + 2γcᵢ + γ²‖p‖², aᵢ = ‖μ − xᵢ‖², cᵢ = ⟨μ − xᵢ, p⟩. Computed once in O(h·d); each γ the Min-Max and
/// Min-Sum bisections try then costs O(h) instead of O(h·d). Buffers are kept across rounds.
/// </summary>
internal sealed class PerturbedMean
{
    private float[]? _mean;
    private float[]? _deviation;
    private float[]? _direction;
    private float[]? _scratch;
    private double[] _offset = [];
    private double[] _slope = [];

    public float[] Mean => _mean!;

    public float[] Direction => _direction!;

    public int Count { get; private set; }

    /// <summary>‖p‖²; 0 means the attack degenerates to b = μ.</summary>
    public double DirectionNormSquared { get; private set; }

    public ReadOnlySpan<double> Offsets => _offset.AsSpan(0, Count);

    public void Compute(GradientBatch honest, PerturbationDirection direction)
    {
        int d = honest.Dimension;
        var mean = Scratch.Exactly(ref _mean, d);
        var deviation = Scratch.Exactly(ref _deviation, d);
        var p = Scratch.Exactly(ref _direction, d);
        var scratch = Scratch.Exactly(ref _scratch, d);
        ColumnStatistics.MeanAndStandardDeviation(honest, mean, deviation, scratch);
        Perturbation.Write(direction, mean, deviation, p);
        DirectionNormSquared = TensorPrimitives.Dot<float>(p, p);
        Count = honest.Count;
        if (_offset.Length < Count)
        {
            _offset = new double[Count];
            _slope = new double[Count];
        }

        for (int i = 0; i < Count; i++)
        {
            TensorPrimitives.Subtract(mean, honest.Row(i), scratch);
            _offset[i] = TensorPrimitives.Dot<float>(scratch, scratch);
            _slope[i] = TensorPrimitives.Dot<float>(scratch, p);
        }
    }

    /// <summary>‖b(γ) − xᵢ‖².</summary>
    public double SquaredDistance(int i, double scale) =>
        _offset[i] + scale * (2 * _slope[i] + scale * DirectionNormSquared);

    /// <summary>Writes b(γ) = μ + γp into <paramref name="output"/>.</summary>
    public void Write(double scale, Span<float> output) =>
        TensorPrimitives.MultiplyAdd(_direction, (float)scale, _mean, output);
}

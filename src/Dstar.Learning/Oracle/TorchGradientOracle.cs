using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using Dstar.Learning.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dstar.Learning.Oracle;

/// <summary>
/// <see cref="IGradientOracle"/> over a TorchSharp model. The flat parameter vector θ is the concatenation of the
/// model's parameters in <c>parameters()</c> order, each row-major. One instance serves every simulated worker of a
/// process: set θ, compute, next.
/// </summary>
/// <remarks>
/// <para>Objective: F(θ; S) = (1/|S|) Σ_{i∈S} ℓ(θ; xᵢ, yᵢ) + (λ/2)‖θ‖², with ℓ the softmax cross-entropy for a
/// classification data set and the half squared error ½(f(x) − y)² for regression. λ is
/// <see cref="TorchGradientOracleOptions.L2"/>; its gradient λθ is added on the flat vector, not through autograd.</para>
/// <para>No flat buffer is allocated per call: θ is written into, and the gradient read out of, each parameter
/// tensor's own storage through a span; a minibatch is assembled straight into a preallocated input tensor. Tensors
/// made during a call live in a <see cref="torch.NewDisposeScope"/> that is disposed before the call returns.</para>
/// <para>Not thread-safe: one caller at a time (torch already spreads each call over <see cref="TorchThreads.Count"/> threads).</para>
/// </remarks>
public sealed class TorchGradientOracle : IGradientOracle, IBatchedEvaluation
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Parameter[] _parameters;
    private readonly int[] _offsets;
    private readonly TorchGradientOracleOptions _options;
    private Tensor? _input;
    private Tensor? _labels;
    private Tensor? _targets;
    private int _capacity;
    private bool _disposed;

    /// <summary>Wraps a model and its data. The oracle owns the model and disposes it.</summary>
    /// <param name="model">A model whose parameters are float32, on the CPU, and contiguous.</param>
    /// <param name="train">Samples that <see cref="ComputeGradient"/> and <see cref="Loss"/> index into.</param>
    /// <param name="test">Samples that <see cref="Evaluate()"/> scores.</param>
    /// <param name="options">λ and the evaluation batch size; null for the defaults.</param>
    /// <exception cref="ArgumentException">the data sets disagree on shape or classes, or a parameter is not float32 contiguous.</exception>
    public TorchGradientOracle(nn.Module<Tensor, Tensor> model, Dataset train, Dataset test, TorchGradientOracleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (!train.SampleShape.SequenceEqual(test.SampleShape) || train.ClassCount != test.ClassCount)
        {
            throw new ArgumentException(
                $"'{train.Name}' ([{string.Join(", ", train.SampleShape)}], {train.ClassCount} classes) and '{test.Name}' " +
                $"([{string.Join(", ", test.SampleShape)}], {test.ClassCount} classes) do not match", nameof(test));
        }

        _options = options ?? new TorchGradientOracleOptions();
        _options.Validate();
        TorchThreads.EnsureConfigured();
        _model = model;
        Train = train;
        Test = test;
        _parameters = model.parameters().ToArray();
        _offsets = new int[_parameters.Length + 1];
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.dtype != ScalarType.Float32 || p.device_type != DeviceType.CPU || !p.is_contiguous())
            {
                throw new ArgumentException($"parameter {i} of the model is {p.dtype} on {p.device_type}{(p.is_contiguous() ? "" : ", not contiguous")}; the oracle needs contiguous float32 on the CPU", nameof(model));
            }

            _offsets[i + 1] = checked(_offsets[i] + (int)p.numel());
        }

        ParameterCount = _offsets[^1];
        EnsureCapacity(_options.InitialBatchCapacity);
    }

    /// <inheritdoc />
    public int ParameterCount { get; }

    /// <summary>The training samples (what sample indices refer to).</summary>
    public Dataset Train { get; }

    /// <summary>The held-out test samples.</summary>
    public Dataset Test { get; }

    /// <summary>λ of the L2 term.</summary>
    public double L2 => _options.L2;

    /// <summary>The wrapped model (for inspection; do not change its parameters' shapes).</summary>
    public nn.Module<Tensor, Tensor> Model => _model;

    /// <inheritdoc />
    public void SetParameters(ReadOnlySpan<float> parameters)
    {
        CheckLength(parameters.Length, nameof(parameters));
        for (int i = 0; i < _parameters.Length; i++)
        {
            parameters[_offsets[i].._offsets[i + 1]].CopyTo(Storage(_parameters[i]));
        }
    }

    /// <inheritdoc />
    public void GetParameters(Span<float> destination)
    {
        CheckLength(destination.Length, nameof(destination));
        for (int i = 0; i < _parameters.Length; i++)
        {
            Storage(_parameters[i]).CopyTo(destination[_offsets[i].._offsets[i + 1]]);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">no indices, an index outside the training set, or a gradient span of the wrong length.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="flipLabels"/> on a regression data set.</exception>
    public double ComputeGradient(ReadOnlySpan<int> sampleIndices, Span<float> gradient, bool flipLabels = false)
    {
        CheckLength(gradient.Length, nameof(gradient));
        int count = Fill(Train, sampleIndices, flipLabels);
        double loss;
        using (var scope = NewDisposeScope())
        {
            _model.train();
            foreach (var p in _parameters)
            {
                // Dropping the old gradient (rather than zeroing it) lets backward write a fresh one without an add.
                p.grad = null;
            }

            var lossTensor = ComputeLoss(count);
            lossTensor.backward();
            loss = lossTensor.item<float>();
            for (int i = 0; i < _parameters.Length; i++)
            {
                var target = gradient[_offsets[i].._offsets[i + 1]];
                var grad = _parameters[i].grad;
                if (grad is null)
                {
                    // A parameter the loss does not depend on has no gradient.
                    target.Clear();
                }
                else
                {
                    Storage(grad.is_contiguous() ? grad : grad.contiguous()).CopyTo(target);
                }
            }
        }

        return loss + AddL2(gradient);
    }

    /// <inheritdoc />
    /// <remarks>Runs the model in evaluation mode (BatchNorm uses its running statistics) without building a graph.</remarks>
    /// <exception cref="ArgumentException">no indices, or an index outside the training set.</exception>
    public double Loss(ReadOnlySpan<int> sampleIndices)
    {
        int count = Fill(Train, sampleIndices, flipLabels: false);
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        _model.eval();
        return ComputeLoss(count).item<float>() + AddL2(default);
    }

    /// <inheritdoc />
    public Evaluation Evaluate()
    {
        var parts = new EvaluationPart[EvaluationBatches];
        for (int b = 0; b < parts.Length; b++)
        {
            parts[b] = EvaluateBatch(b);
        }

        return Combine(parts);
    }

    /// <inheritdoc />
    public int EvaluationBatches => (Test.Count + _options.EvaluationBatchSize - 1) / _options.EvaluationBatchSize;

    /// <inheritdoc />
    /// <remarks>Batch b holds test samples b·B … min((b + 1)·B, n) − 1, B the evaluation batch size.</remarks>
    public EvaluationPart EvaluateBatch(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batch, EvaluationBatches);
        int size = _options.EvaluationBatchSize;
        int start = batch * size;
        int count = Math.Min(size, Test.Count - start);
        var indices = new int[count];
        for (int j = 0; j < count; j++)
        {
            indices[j] = start + j;
        }

        return Score(Test, indices);
    }

    /// <inheritdoc />
    public Evaluation Combine(ReadOnlySpan<EvaluationPart> parts)
    {
        if (parts.Length != EvaluationBatches)
        {
            throw new ArgumentException($"{parts.Length} scores for {EvaluationBatches} evaluation batches", nameof(parts));
        }

        if (Test.Count == 0)
        {
            return new Evaluation(double.NaN, double.NaN);
        }

        double lossSum = 0;
        long correct = 0;
        foreach (var part in parts)
        {
            lossSum += part.LossSum;
            correct += part.Correct;
        }

        return new Evaluation(Test.IsClassification ? (double)correct / Test.Count : double.NaN, lossSum / Test.Count);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _input?.Dispose();
        _labels?.Dispose();
        _targets?.Dispose();
        _model.Dispose();
    }

    /// <summary>
    /// The sum of the losses ℓ (without the L2 term) and the number of correct argmax predictions (0 for regression)
    /// over the samples <paramref name="indices"/> of <paramref name="data"/>, in one forward pass in evaluation mode
    /// without gradients. <see cref="Evaluate()"/> sums these over the test set's batches in order.
    /// </summary>
    private EvaluationPart Score(Dataset data, int[] indices)
    {
        int count = indices.Length;
        Fill(data, indices, flipLabels: false);
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        _model.eval();
        var output = _model.forward(Input(count));
        if (data.IsClassification)
        {
            var labels = Labels(count);
            double loss = nn.functional.cross_entropy(output, labels, reduction: nn.Reduction.Sum).item<float>();
            return new EvaluationPart(loss, output.argmax(1).eq(labels).sum().item<long>(), count);
        }

        var difference = output.view(count) - Targets(count);
        return new EvaluationPart(0.5 * difference.square().sum().item<float>(), 0, count);
    }

    /// <summary>The mean loss ℓ over the first <paramref name="count"/> filled samples (a tensor in the current scope).</summary>
    private Tensor ComputeLoss(int count)
    {
        var output = _model.forward(Input(count));
        if (Train.IsClassification)
        {
            return nn.functional.cross_entropy(output, Labels(count));
        }

        var difference = output.view(count) - Targets(count);
        return difference.square().mean() * 0.5;
    }

    /// <summary>Adds λθ to <paramref name="gradient"/> (when not empty) and returns (λ/2)‖θ‖².</summary>
    private double AddL2(Span<float> gradient)
    {
        float lambda = (float)_options.L2;
        if (lambda == 0)
        {
            return 0;
        }

        double squares = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var theta = Storage(_parameters[i]);
            squares += TensorPrimitives.Dot(theta, theta);
            if (!gradient.IsEmpty)
            {
                var target = gradient[_offsets[i].._offsets[i + 1]];
                TensorPrimitives.MultiplyAdd(theta, lambda, target, target);
            }
        }

        return 0.5 * _options.L2 * squares;
    }

    /// <summary>Writes the samples' features, labels (flipped on request) or targets into the batch tensors.</summary>
    private int Fill(Dataset data, ReadOnlySpan<int> indices, bool flipLabels)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (indices.IsEmpty)
        {
            throw new ArgumentException("a minibatch needs at least one sample index", nameof(indices));
        }

        if (flipLabels && !data.IsClassification)
        {
            throw new InvalidOperationException($"label flipping needs class labels; '{data.Name}' is a regression data set");
        }

        EnsureCapacity(indices.Length);
        int features = data.FeatureCount;
        var input = Storage(_input!);
        var labels = MemoryMarshal.Cast<byte, long>(_labels!.bytes);
        var targets = Storage(_targets!);
        int top = data.ClassCount - 1;
        for (int j = 0; j < indices.Length; j++)
        {
            int index = indices[j];
            if ((uint)index >= (uint)data.Count)
            {
                throw new ArgumentException($"sample index {index} (position {j}) is outside 0..{data.Count - 1} of '{data.Name}'", nameof(indices));
            }

            data.WriteFeatures(index, input.Slice(j * features, features));
            if (data.IsClassification)
            {
                int label = data.Labels[index];
                labels[j] = flipLabels ? top - label : label;
            }
            else
            {
                targets[j] = data.Targets[index];
            }
        }

        return indices.Length;
    }

    private void EnsureCapacity(int count)
    {
        if (count <= _capacity)
        {
            return;
        }

        int capacity = Math.Max(count, _capacity * 2);
        _input?.Dispose();
        _labels?.Dispose();
        _targets?.Dispose();
        var shape = new long[Train.SampleShape.Count + 1];
        shape[0] = capacity;
        for (int i = 0; i < Train.SampleShape.Count; i++)
        {
            shape[i + 1] = Train.SampleShape[i];
        }

        // Made outside any dispose scope: these buffers live as long as the oracle.
        using (NewDisposeScope())
        {
            _input = zeros(shape, ScalarType.Float32).MoveToOuterDisposeScope();
            _labels = zeros(capacity, ScalarType.Int64).MoveToOuterDisposeScope();
            _targets = zeros(capacity, ScalarType.Float32).MoveToOuterDisposeScope();
        }

        _capacity = capacity;
    }

    // The full buffer is passed as is (it was made outside every scope, so a scope never disposes it); a shorter
    // batch is a view made inside the caller's scope.
    private Tensor Input(int count) => count == _capacity ? _input! : _input!.narrow(0, 0, count);

    private Tensor Labels(int count) => count == _capacity ? _labels! : _labels!.narrow(0, 0, count);

    private Tensor Targets(int count) => count == _capacity ? _targets! : _targets!.narrow(0, 0, count);

    /// <summary>A float32 CPU contiguous tensor's storage as a span (no copy).</summary>
    private static Span<float> Storage(Tensor tensor) => MemoryMarshal.Cast<byte, float>(tensor.bytes);

    private void CheckLength(int length, string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (length != ParameterCount)
        {
            throw new ArgumentException($"{name} has {length} values; the model has {ParameterCount} parameters", name);
        }
    }
}

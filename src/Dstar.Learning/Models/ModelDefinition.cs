using TorchSharp;
using static TorchSharp.torch;

namespace Dstar.Learning.Models;

/// <summary>
/// A named model architecture, built for a data set's sample shape and class count (C = 0: one regression output).
/// Building seeds torch's global generator first, so the same seed gives the same initial parameters (builds on
/// different threads are serialised so that they cannot interleave their draws).
/// </summary>
public sealed class ModelDefinition
{
    // torch's default generator is process-wide: seeding and drawing the initial parameters must not interleave with
    // another thread's build, or the same seed could give different parameters.
    private static readonly Lock SeedGate = new();
    private readonly Func<IReadOnlyList<int>, int, nn.Module<Tensor, Tensor>> _build;

    /// <summary>Wraps a builder.</summary>
    /// <param name="name">The spec text.</param>
    /// <param name="description">One line on the architecture.</param>
    /// <param name="build">Builds the module for a sample shape and class count.</param>
    /// <param name="hasRunningState">Whether a training-mode forward pass changes state outside the parameters (BatchNorm's running statistics).</param>
    public ModelDefinition(string name, string description, Func<IReadOnlyList<int>, int, nn.Module<Tensor, Tensor>> build, bool hasRunningState = false)
    {
        Name = name;
        Description = description;
        _build = build;
        HasRunningState = hasRunningState;
    }

    /// <summary>The spec text it was built from, for example "mlp hidden=128".</summary>
    public string Name { get; }

    /// <summary>A one-line description of the architecture.</summary>
    public string Description { get; }

    /// <summary>
    /// Whether every training-mode forward pass updates state that is not a parameter (BatchNorm's running statistics,
    /// which evaluation uses): such a model's evaluations depend on which gradients one model instance computed, in
    /// which order, so its workers' gradients cannot be spread over several replicas without changing the results.
    /// </summary>
    public bool HasRunningState { get; }

    /// <summary>Builds the model with parameters initialised from <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">the architecture cannot take this sample shape or class count; the message names both.</exception>
    public nn.Module<Tensor, Tensor> Build(IReadOnlyList<int> sampleShape, int classCount, long seed)
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        lock (SeedGate)
        {
            torch.manual_seed(seed);
            return _build(sampleShape, classCount);
        }
    }
}

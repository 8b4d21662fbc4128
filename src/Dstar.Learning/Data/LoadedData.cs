using Dstar.Learning.Data.Synthetic;

namespace Dstar.Learning.Data;

/// <summary>A training and a test set, with a description of where they came from that every run prints.</summary>
/// <param name="Train">The training set.</param>
/// <param name="Test">The test set.</param>
/// <param name="Description">For example "fashion-mnist from /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist): 60000 train, 10000 test".</param>
/// <param name="Synthetic">The synthetic problem (with its known optimum), or null for real data.</param>
public sealed record LoadedData(Dataset Train, Dataset Test, string Description, SyntheticProblem? Synthetic = null);

namespace Dstar.Learning.Data.Synthetic;

/// <summary>
/// A synthetic convex problem with a known optimum, for convergence checks. The training objective is
/// F(θ) = (1/n) Σᵢ ℓ(θ; xᵢ, yᵢ) + (λ/2)‖θ‖², strongly convex with modulus ≥ λ, minimised by <see cref="Optimum"/>.
/// θ is laid out in the order of the model named <see cref="ModelName"/> (the linear layer's weight, row-major
/// [outputs × inputs], then its bias), which is also the oracle's flat parameter order.
/// </summary>
/// <param name="Train">The training samples.</param>
/// <param name="Test">Held-out samples from the same distribution.</param>
/// <param name="ModelName">"logreg" or "linreg": the model whose parameters θ are.</param>
/// <param name="L2">λ &gt; 0, the L2 coefficient the oracle must use for <see cref="Optimum"/> to be the minimiser.</param>
/// <param name="Optimum">θ* = argmin F, computed in double precision to a gradient norm below 1e-9.</param>
/// <param name="OptimalLoss">F(θ*).</param>
public sealed record SyntheticProblem(
    VectorDataset Train,
    VectorDataset Test,
    string ModelName,
    double L2,
    float[] Optimum,
    double OptimalLoss);

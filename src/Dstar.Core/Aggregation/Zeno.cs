using System.Numerics.Tensors;
using Dstar.Core.Kernels;

namespace Dstar.Core.Aggregation;

/// <summary>
/// Zeno (Xie, Koyejo, Gupta, "Zeno: Distributed Stochastic Gradient Descent with Suspicion-based Fault-tolerance",
/// ICML 2019, Definition 1): the stochastic descendant score
/// score(i) = F_val(x) − F_val(x − γ·xᵢ) − ρ‖xᵢ‖², i.e. how much a step of size γ along −xᵢ lowers the server's
/// validation loss, minus a penalty on its magnitude. The output is the mean of the n − b rows with the highest
/// scores (ties: the lower row index).
/// </summary>
/// <remarks>
/// <para>
/// Requirements: n ≥ b + 1, <see cref="AggregationContext.Parameters"/> (x, length d) and
/// <see cref="AggregationContext.ValidationLoss"/> (F_val). b is the spec's <c>b=</c> when given, else the context's f.
/// Missing parameters or loss: <see cref="AggregationException"/>.
/// </para>
/// <para>
/// Non-finite rows are dropped and reported; the requirement is then checked on the finite rows. A loss that returns
/// NaN or ±∞ for a row gives that row score −∞ (never preferred to a finite score).
/// </para>
/// <para>Report: Kept = the n − b chosen rows, Weights = 1/(n − b) for them, Scores = the Zeno scores (NaN for dropped rows).</para>
/// <para>Cost: n + 1 evaluations of F_val plus O(n·d) for the trial points and the mean; one d-long scratch buffer per instance.</para>
/// </remarks>
public sealed class Zeno : IAggregator
{
    private float[] _trial = Array.Empty<float>();
    private int[] _finite = Array.Empty<int>();
    private double[] _scores = Array.Empty<double>();
    private int[] _order = Array.Empty<int>();

    /// <summary>Creates Zeno.</summary>
    /// <param name="suspected">b, how many rows to leave out; null means the context's f.</param>
    /// <param name="penalty">ρ ≥ 0, the weight of ‖xᵢ‖² in the score.</param>
    /// <param name="stepSize">γ &gt; 0, the trial step along −xᵢ.</param>
    /// <exception cref="ArgumentOutOfRangeException">a parameter is out of range.</exception>
    public Zeno(int? suspected = null, double penalty = 0.0005, double stepSize = 0.1)
    {
        if (suspected < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(suspected), $"zeno: b must be ≥ 0, got {suspected}");
        }

        if (!(penalty >= 0) || double.IsInfinity(penalty))
        {
            throw new ArgumentOutOfRangeException(nameof(penalty), $"zeno: rho must be a finite value ≥ 0, got {penalty}");
        }

        if (!(stepSize > 0) || double.IsInfinity(stepSize))
        {
            throw new ArgumentOutOfRangeException(nameof(stepSize), $"zeno: gamma must be a finite value > 0, got {stepSize}");
        }

        Suspected = suspected;
        Penalty = penalty;
        StepSize = stepSize;
    }

    /// <summary>b as given in the spec, or null to use the context's f.</summary>
    public int? Suspected { get; }

    /// <summary>ρ.</summary>
    public double Penalty { get; }

    /// <summary>γ.</summary>
    public double StepSize { get; }

    /// <inheritdoc />
    public string Name => "zeno";

    /// <inheritdoc />
    public string? CheckRequirements(int n, int f, bool hasValidationGradient)
    {
        int b = Suspected ?? f;
        return RuleRequirements.AtLeast(Name, n, "b+1", b + 1, "b", b);
    }

    /// <inheritdoc />
    public AggregationReport Aggregate(GradientBatch batch, AggregationContext context, Span<float> output)
    {
        RuleRequirements.Output(Name, batch, output);
        ArgumentNullException.ThrowIfNull(context);
        int n = batch.Count, d = batch.Dimension;
        int b = Suspected ?? context.ByzantineCount;
        RuleRequirements.Ensure(CheckRequirements(n, context.ByzantineCount, context.ValidationGradient is not null));
        var parameters = context.Parameters
            ?? throw new AggregationException(RuleRequirements.Missing(Name, "the parameters x the gradients were computed at (context.Parameters)"));
        var loss = context.ValidationLoss
            ?? throw new AggregationException(RuleRequirements.Missing(Name, "the validation loss F_val (context.ValidationLoss)"));
        if (parameters.Length != d)
        {
            throw new AggregationException($"zeno: parameters have {parameters.Length} values, expected d = {d}");
        }

        Scratch.AtLeast(ref _trial, d);
        Scratch.AtLeast(ref _finite, n);
        Scratch.AtLeast(ref _scores, n);
        Scratch.AtLeast(ref _order, n);
        var trial = _trial.AsSpan(0, d);
        double baseline = loss(parameters);
        if (!double.IsFinite(baseline))
        {
            throw new AggregationException($"zeno: the validation loss at the current parameters is non-finite ({baseline})");
        }

        var dropped = new List<int>();
        int m = 0;
        for (int i = 0; i < n; i++)
        {
            var row = batch.Row(i);
            float squared = TensorPrimitives.SumOfSquares<float>(row);
            if (!float.IsFinite(squared) && !NonFinite.AllFinite(row))
            {
                dropped.Add(i);
                continue;
            }

            TensorPrimitives.MultiplyAdd(row, (float)-StepSize, parameters, trial);
            double score = baseline - loss(trial) - Penalty * squared;
            _scores[m] = double.IsFinite(score) ? score : double.NegativeInfinity;
            _finite[m++] = i;
        }

        RuleRequirements.EnsureOnFinite(CheckRequirements(m, context.ByzantineCount, context.ValidationGradient is not null), n, m);
        var scores = _scores.AsSpan(0, m);
        var order = _order.AsSpan(0, m);
        // Highest score first: sort positions by −score, ties by position.
        for (int a = 0; a < m; a++)
        {
            scores[a] = -scores[a];
        }

        MultiKrum.LowestScores(scores, order);
        for (int a = 0; a < m; a++)
        {
            scores[a] = -scores[a];
        }

        int keep = m - b;
        var chosen = new int[keep];
        for (int k = 0; k < keep; k++)
        {
            chosen[k] = _finite[order[k]];
        }

        Array.Sort(chosen);
        RowMeans.Mean(batch, chosen, default, output, context.MaxDegreeOfParallelism);
        var weights = new double[n];
        var reported = new double[n];
        Array.Fill(reported, double.NaN);
        for (int a = 0; a < m; a++)
        {
            reported[_finite[a]] = scores[a];
        }

        foreach (var row in chosen)
        {
            weights[row] = 1.0 / keep;
        }

        return new AggregationReport(Name, chosen, weights, reported, dropped);
    }
}

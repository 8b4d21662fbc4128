using System.Numerics.Tensors;
using Dstar.Core;
using Dstar.Core.Aggregation;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Benchmarks;

/// <summary>
/// "dstar-plus-parts [repeats] [rows] [dimension]": the steps of dSTAR with our checks (the dstar-plus preset) timed
/// apart, one thread, each call interleaved with a streaming read of the same batch, on the data of
/// <c>dstar bench aggregators</c> (rows = g + N(0, I), g₀ = g + N(0, I), no Byzantine row): the screen's norms and dot
/// products, the duplicate grouping, the filter's median-and-deviations pass, the weighted mean, and the whole rules.
/// Prints the median time of each and its ratio to the read.
/// </summary>
public static class DstarPlusParts
{
    /// <summary>Runs the comparison and prints a small table.</summary>
    public static void Run(int repeats, int rows, int dimension)
    {
        var random = new Random(1);
        var truth = new float[dimension];
        StandardNormal.Fill(random, truth);
        var batch = new GradientBatch(rows, dimension);
        for (int i = 0; i < rows; i++)
        {
            StandardNormal.Fill(random, batch.Row(i));
            TensorPrimitives.Add(batch.Row(i), truth, batch.Row(i));
        }

        var validation = new float[dimension];
        StandardNormal.Fill(random, validation);
        TensorPrimitives.Add(validation, truth, validation);
        var context = new AggregationContext(3, new Random(1)) { ValidationGradient = validation };
        var output = new float[dimension];
        var all = Enumerable.Range(0, rows).ToArray();
        var norms = new double[rows];
        var dots = new double[rows];
        var squared = new double[rows + 1];
        var weights = Enumerable.Repeat(1.0 / (rows + 1), rows).ToArray();
        double validationNorm = Math.Sqrt(RowDeviations.Exact(validation, default));
        DstarScreen.Measure(batch, all, validation, norms, dots);

        var variants = new List<(string Name, Action Call)>
        {
            ("‖g₀‖ (RowNorms.Of)", () => RowNorms.Of(batch, validation)),
            ("screen: norms and dots (Measure)", () => DstarScreen.Measure(batch, all, validation, norms, dots)),
            ("screen: duplicate groups (Groups)", () => DstarScreen.Groups(batch, all, norms, dots, validationNorm, 0.05)),
            ("filter pass 1: median + deviations", () => RowDeviations.Squared(batch, all, validation, CenterMode.Median, squared, default, centerRows: rows + 1)),
            ("weighted sum of the rows and g₀", () => WeightedRowSums.WeightedSum(batch, all, weights, output, validation, 0.5)),
            ("weighted sum of the rows alone", () => WeightedRowSums.WeightedSum(batch, all, weights, output)),
            ("plain mean of the rows", () => RowMeans.Mean(batch, all, default, output)),
            ("the steps in sequence (norm, screen, filter, weighted sum)", () =>
            {
                RowNorms.Of(batch, validation);
                DstarScreen.Measure(batch, all, validation, norms, dots);
                DstarScreen.Groups(batch, all, norms, dots, validationNorm, 0.05);
                RowDeviations.Squared(batch, all, validation, CenterMode.Median, squared, default, centerRows: rows + 1);
                WeightedRowSums.WeightedSum(batch, all, weights, output, validation, 0.5);
            }),
        };
        foreach (var spec in new[] { "mean", "dstar", "dstar direction=0 duplicates=0.05 reference=quantile", "dstar-plus" })
        {
            var rule = Registry.Rules.Create(spec);
            variants.Add(($"rule {spec}", () => rule.Aggregate(batch, context, output)));
        }

        InterleavedParts.Run(batch, variants, repeats, warmUps: 5, rows, dimension);
    }
}

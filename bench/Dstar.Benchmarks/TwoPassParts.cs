using System.Diagnostics;
using Dstar.Core;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Benchmarks;

/// <summary>
/// "two-pass-parts [repeats] [rows] [dimension]": the passes of the two-pass rules timed apart, one thread, each call
/// interleaved with a streaming read of the same batch: dSTAR's first pass (median of the rows and g₀ plus every squared
/// deviation) and second pass (mean of all rows), centered clipping's distance pass and step, and
/// the whole rules with mean and median for scale. Prints the median time of each and its ratio to the read.
/// </summary>
public static class TwoPassParts
{
    /// <summary>Runs the comparison and prints a small table.</summary>
    public static unsafe void Run(int repeats, int rows, int dimension)
    {
        var (batch, context) = CoordinateRulesBenchmarks.MakeBatch(rows, dimension, seed: 1);
        var validation = context.ValidationGradient!;
        context.PreviousAggregate = (float[])validation.Clone();
        var output = new float[dimension];
        var squared = new double[rows + 1];
        var all = Enumerable.Range(0, rows).ToArray();
        var steps = Enumerable.Repeat(1f / rows, rows).ToArray();
        var rules = new Dictionary<string, IAggregator>();
        foreach (var spec in new[] { "mean", "median", "dstar", "centered-clipping iterations=1" })
        {
            rules[spec] = Registry.Rules.Create(spec);
        }

        fixed (float* rowData = batch.Buffer)
        fixed (float* outputData = output)
        {
            Console.WriteLine($"alignment (bytes mod 64): rows {(nint)rowData % 64}, output {(nint)outputData % 64}");
        }

        var variants = new List<(string Name, Action Call)>
        {
            ("dstar pass 1: median + deviations", () => RowDeviations.Squared(batch, all, validation, CenterMode.Median, squared, default, centerRows: rows + 1)),
            ("dstar pass 1, writing the centre", () => RowDeviations.Squared(batch, all, validation, CenterMode.Median, squared, output, centerRows: rows + 1)),
            ("dstar pass 2: mean", () => RowCombinations.Mean(batch, all, default, output)),
            ("clipping pass 1: distances to v", () => RowDeviations.Squared(batch, all, default, CenterMode.Given, squared, default, center: validation)),
            ("clipping pass 2: step", () => RowCombinations.Step(batch, all, steps, output)),
        };
        foreach (var (spec, rule) in rules)
        {
            variants.Add(($"rule {spec}", () => rule.Aggregate(batch, context, output)));
        }

        const int warmUps = 40;
        var reads = new List<double>();
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (int repeat = 0; repeat < repeats + warmUps; repeat++)
        {
            for (int v = 0; v < variants.Count; v++)
            {
                double read = Time(() => CoordinateRulesBenchmarks.StreamingSum(batch));
                double own = Time(variants[v].Call);
                if (repeat >= warmUps)
                {
                    reads.Add(read);
                    times[v].Add(own);
                }
            }
        }

        double readMedian = Median(reads);
        Console.WriteLine($"n = {rows}, d = {dimension}, one thread, {repeats} interleaved repeats after {warmUps} warm-ups; streaming read {readMedian:F3} ms");
        for (int v = 0; v < variants.Count; v++)
        {
            double ms = Median(times[v]);
            Console.WriteLine($"{variants[v].Name,-45} {ms,8:F3} ms  {ms / readMedian,5:F2}×");
        }
    }

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(List<double> samples)
    {
        var sorted = samples.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}

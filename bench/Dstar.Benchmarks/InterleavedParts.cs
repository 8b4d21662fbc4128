using System.Diagnostics;
using Dstar.Core;

namespace Dstar.Benchmarks;

/// <summary>
/// Times the steps of a rule against a streaming read of the same batch, each call interleaved with a read so that a
/// change in the machine's load hits both alike, and prints each step's median time and its ratio to the median read.
/// The "parts" benchmarks (<c>two-pass-parts</c>, <c>dstar-plus-parts</c>) share it.
/// </summary>
internal static class InterleavedParts
{
    /// <summary>Runs <paramref name="warmUps"/> untimed then <paramref name="repeats"/> timed rounds over every variant and prints the table.</summary>
    public static void Run(GradientBatch batch, IReadOnlyList<(string Name, Action Call)> variants, int repeats, int warmUps, int rows, int dimension)
    {
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
        int width = variants.Max(v => v.Name.Length) + 2;
        Console.WriteLine($"n = {rows}, d = {dimension}, one thread, {repeats} interleaved repeats after {warmUps} warm-ups; streaming read {readMedian:F3} ms");
        for (int v = 0; v < variants.Count; v++)
        {
            double ms = Median(times[v]);
            Console.WriteLine($"{variants[v].Name.PadRight(width)} {ms,8:F3} ms  {ms / readMedian,5:F2}×");
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

using System.Runtime.Intrinsics;
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

        // The same centre at the rows' offset within a cache line, and at another offset.
        var centerBuffer = GC.AllocateArray<float>(dimension + 32, pinned: true);
        int rowOffset, centerOffset;
        fixed (float* rowData = batch.Buffer)
        fixed (float* centerData = centerBuffer)
        {
            rowOffset = (int)((nint)rowData % 64 / 4);
            centerOffset = (int)((nint)centerData % 64 / 4);
        }

        int coAligned = ((rowOffset - centerOffset) % 16 + 16) % 16;
        var centerCoAligned = new ArraySegment<float>(centerBuffer, coAligned, dimension);
        validation.CopyTo(centerCoAligned.AsSpan());
        var variants = new List<(string Name, Action Call)>
        {
            ("plain C# distances (16 rows, 1 thread)", () => PlainDistances(batch, validation)),
            ("clipping pass 1, centre co-aligned with rows", () => RowDeviations.Squared(batch, all, default, CenterMode.Given, squared, default, center: centerCoAligned.AsSpan())),
            ("dstar pass 1: median + deviations", () => RowDeviations.Squared(batch, all, validation, CenterMode.Median, squared, default, centerRows: rows + 1)),
            ("dstar pass 1, writing the centre", () => RowDeviations.Squared(batch, all, validation, CenterMode.Median, squared, output, centerRows: rows + 1)),
            ("dstar pass 2: mean", () => RowMeans.Mean(batch, all, default, output)),
            ("clipping pass 1: distances to v", () => RowDeviations.Squared(batch, all, default, CenterMode.Given, squared, default, center: validation)),
            ("clipping pass 2: step", () => RowMeans.Step(batch, all, steps, output)),
        };
        foreach (var (spec, rule) in rules)
        {
            variants.Add(($"rule {spec}", () => rule.Aggregate(batch, context, output)));
        }

        InterleavedParts.Run(batch, variants, repeats, warmUps: 40, rows, dimension);
    }

    /// <summary>Plain C# with every pointer and accumulator in a local: the reference for the compiled distance pass.</summary>
    private static unsafe float PlainDistances(GradientBatch batch, float[] centerArray)
    {
        int d = batch.Dimension;
        fixed (float* data = batch.Buffer)
        fixed (float* center = centerArray)
        {
            float* r0 = data + 0L * d;
            float* r1 = data + 1L * d;
            float* r2 = data + 2L * d;
            float* r3 = data + 3L * d;
            float* r4 = data + 4L * d;
            float* r5 = data + 5L * d;
            float* r6 = data + 6L * d;
            float* r7 = data + 7L * d;
            float* r8 = data + 8L * d;
            float* r9 = data + 9L * d;
            float* r10 = data + 10L * d;
            float* r11 = data + 11L * d;
            float* r12 = data + 12L * d;
            float* r13 = data + 13L * d;
            float* r14 = data + 14L * d;
            float* r15 = data + 15L * d;
            Vector512<float> a0 = default;
            Vector512<float> a1 = default;
            Vector512<float> a2 = default;
            Vector512<float> a3 = default;
            Vector512<float> a4 = default;
            Vector512<float> a5 = default;
            Vector512<float> a6 = default;
            Vector512<float> a7 = default;
            Vector512<float> a8 = default;
            Vector512<float> a9 = default;
            Vector512<float> a10 = default;
            Vector512<float> a11 = default;
            Vector512<float> a12 = default;
            Vector512<float> a13 = default;
            Vector512<float> a14 = default;
            Vector512<float> a15 = default;
            for (int j = 0; j + 16 <= d; j += 16)
            {
                var c = Vector512.Load(center + j);
                { var x = Vector512.Load(r0 + j) - c; a0 = Vector512.FusedMultiplyAdd(x, x, a0); }
                { var x = Vector512.Load(r1 + j) - c; a1 = Vector512.FusedMultiplyAdd(x, x, a1); }
                { var x = Vector512.Load(r2 + j) - c; a2 = Vector512.FusedMultiplyAdd(x, x, a2); }
                { var x = Vector512.Load(r3 + j) - c; a3 = Vector512.FusedMultiplyAdd(x, x, a3); }
                { var x = Vector512.Load(r4 + j) - c; a4 = Vector512.FusedMultiplyAdd(x, x, a4); }
                { var x = Vector512.Load(r5 + j) - c; a5 = Vector512.FusedMultiplyAdd(x, x, a5); }
                { var x = Vector512.Load(r6 + j) - c; a6 = Vector512.FusedMultiplyAdd(x, x, a6); }
                { var x = Vector512.Load(r7 + j) - c; a7 = Vector512.FusedMultiplyAdd(x, x, a7); }
                { var x = Vector512.Load(r8 + j) - c; a8 = Vector512.FusedMultiplyAdd(x, x, a8); }
                { var x = Vector512.Load(r9 + j) - c; a9 = Vector512.FusedMultiplyAdd(x, x, a9); }
                { var x = Vector512.Load(r10 + j) - c; a10 = Vector512.FusedMultiplyAdd(x, x, a10); }
                { var x = Vector512.Load(r11 + j) - c; a11 = Vector512.FusedMultiplyAdd(x, x, a11); }
                { var x = Vector512.Load(r12 + j) - c; a12 = Vector512.FusedMultiplyAdd(x, x, a12); }
                { var x = Vector512.Load(r13 + j) - c; a13 = Vector512.FusedMultiplyAdd(x, x, a13); }
                { var x = Vector512.Load(r14 + j) - c; a14 = Vector512.FusedMultiplyAdd(x, x, a14); }
                { var x = Vector512.Load(r15 + j) - c; a15 = Vector512.FusedMultiplyAdd(x, x, a15); }
            }

            return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15);
        }
    }

}

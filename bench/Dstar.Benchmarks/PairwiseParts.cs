using System.Diagnostics;
using System.Numerics.Tensors;
using Dstar.Core;
using Dstar.Core.Kernels;

namespace Dstar.Benchmarks;

/// <summary>
/// "pairwise-parts [repeats]": the parts of the pairwise rules timed separately at n = 16, d = 10⁶, one thread (the Gram
/// pass, NNM's mixing with a fixed neighbourhood matrix, the 13-row mean of Multi-Krum, and a non-temporal copy of the
/// batch as the floor for writing a batch-sized output), each interleaved with a streaming read. The environment
/// variable PARTS=gram,mix restricts the set. "pair-ratio" is the distribution of per-repeat CPU-time ratios, which a
/// busy shared machine disturbs least.
/// </summary>
public static class PairwiseParts
{
    private static unsafe void CopyNt(float[] a, float[] b)
    {
        fixed (float* s = a) fixed (float* t = b)
        {
            int i = 0; while (((nint)(t + i) & 63) != 0) { t[i] = s[i]; i++; }
            for (; i + 16 <= a.Length; i += 16) System.Runtime.Intrinsics.Vector512.StoreAlignedNonTemporal(System.Runtime.Intrinsics.Vector512.Load(s + i), t + i);
            for (; i < a.Length; i++) t[i] = s[i];
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }
    private static double Cpu() { ClockGetTime(3, out var t); return t.Seconds * 1e3 + t.Nanoseconds / 1e6; }

    public static void Run(int repeats)
    {
        int n = 16, d = 1_000_000, f = 3;
        var batch = PairwiseRulesBenchmarks.CreateBatch(n, d, 1);
        var target = new GradientBatch(n, d);
        var rows = new int[n];
        var distances = new double[n * n];
        var weights = new double[n * n];
        for (int i = 0; i < n; i++) { rows[i] = i; for (int k = 0; k < n - f; k++) weights[i * n + (i + k) % n] = 1.0 / (n - f); }
        var output = new float[d];
        var chosen = rows.AsSpan(0, n - f).ToArray();
        var equal = Enumerable.Repeat(1.0 / (n - f), n - f).ToArray();
        var parts = new (string, Action)[]
        {
            ("gram", () => { for (int i = 0; i < n; i++) rows[i] = i; PairwiseDistances.SquaredOfFiniteRows(batch, rows, distances); }),
            ("mix", () => WeightedRowSums.Mix(batch, rows, weights, target, rows)),
            ("mean13", () => RowMeans.Mean(batch, chosen, default, output)),
            ("weighted13", () => WeightedRowSums.WeightedSum(batch, chosen, equal, output)),
            ("copy-nt", () => CopyNt(batch.Buffer, target.Buffer)),
        };
        float sink = 0;
        var only = Environment.GetEnvironmentVariable("PARTS")?.Split(',');
        if (only is not null) parts = parts.Where(p => only.Contains(p.Item1)).ToArray();
        var a = parts.Select(_ => new List<double>()).ToArray(); var b = parts.Select(_ => new List<double>()).ToArray();
        var ca = parts.Select(_ => new List<double>()).ToArray(); var cb = parts.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < repeats + 2; r++)
        {
            for (int q = 0; q < parts.Length; q++)
            {
                var run = parts[q].Item2;
                double c0 = Cpu();
                long s = Stopwatch.GetTimestamp();
                sink += TensorPrimitives.Sum<float>(batch.AsSpan());
                double read = Stopwatch.GetElapsedTime(s).TotalMilliseconds;
                double c1 = Cpu();
                s = Stopwatch.GetTimestamp();
                run();
                double t = Stopwatch.GetElapsedTime(s).TotalMilliseconds;
                double c2 = Cpu();
                if (r >= 2) { a[q].Add(read); b[q].Add(t); ca[q].Add(c1 - c0); cb[q].Add(c2 - c1); }
            }
        }

        for (int q = 0; q < parts.Length; q++)
        {
            var ratios = cb[q].Zip(ca[q], (x, y) => x / y).OrderBy(x => x).ToList();
            a[q].Sort(); b[q].Sort(); ca[q].Sort(); cb[q].Sort();
            Console.WriteLine($"{parts[q].Item1,-12} {b[q][b[q].Count / 2],7:F2} ms  read {a[q][a[q].Count / 2],6:F2}  ratio {b[q][b[q].Count / 2] / a[q][a[q].Count / 2],5:F2}  cpu {cb[q][cb[q].Count / 2] / ca[q][ca[q].Count / 2],5:F2} cpumin {cb[q][0] / ca[q][0],5:F2}  pair-ratio q25 {ratios[ratios.Count / 4],5:F2} med {ratios[ratios.Count / 2],5:F2}");
        }
    }
}

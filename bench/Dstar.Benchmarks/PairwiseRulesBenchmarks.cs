using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Attributes;
using Dstar.Core;
using Dstar.Core.Aggregation;
using Dstar.Core.PreAggregation;

namespace Dstar.Benchmarks;

/// <summary>
/// The pairwise rules (Krum, Multi-Krum, Bulyan, the geometric median, MDA, NNM) against a streaming read of the same
/// batch (the sum of all n·d floats), on one thread. The ratio to the baseline is the number that matters.
/// </summary>
[MemoryDiagnoser]
public class PairwiseRulesBenchmarks
{
    private GradientBatch _batch = null!;
    private float[] _output = null!;
    private readonly AggregationContext _context = new(byzantineCount: 3) { MaxDegreeOfParallelism = 1 };
    private readonly Krum _krum = new();
    private readonly MultiKrum _multiKrum = new();
    private readonly Bulyan _bulyan = new();
    private readonly GeometricMedian _geometricMedian = new();
    private readonly Mda _mda = new();
    private readonly Nnm _nnm = new();

    /// <summary>Rows n.</summary>
    [Params(16, 64)]
    public int Rows { get; set; }

    /// <summary>Dimension d.</summary>
    [Params(1_000_000)]
    public int Dimension { get; set; }

    /// <summary>Fills the batch with seeded Gaussian-like gradients (honest cloud around a common mean).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _batch = CreateBatch(Rows, Dimension, seed: 1);
        _output = new float[Dimension];
    }

    /// <summary>The baseline: one streaming read of every value.</summary>
    [Benchmark(Baseline = true)]
    public float StreamingRead() => TensorPrimitives.Sum<float>(_batch.AsSpan());

    /// <summary>Krum f=3.</summary>
    [Benchmark]
    public AggregationReport Krum() => _krum.Aggregate(_batch, _context, _output);

    /// <summary>Multi-Krum f=3, m = n − f.</summary>
    [Benchmark]
    public AggregationReport MultiKrum() => _multiKrum.Aggregate(_batch, _context, _output);

    /// <summary>Bulyan f=3.</summary>
    [Benchmark]
    public AggregationReport Bulyan() => _bulyan.Aggregate(_batch, _context, _output);

    /// <summary>Geometric median at its default tolerance.</summary>
    [Benchmark]
    public AggregationReport GeometricMedian() => _geometricMedian.Aggregate(_batch, _context, _output);

    /// <summary>MDA f=3 (C(n, 3) subsets).</summary>
    [Benchmark]
    public AggregationReport Mda() => _mda.Aggregate(_batch, _context, _output);

    /// <summary>NNM f=3.</summary>
    [Benchmark]
    public GradientBatch Nnm() => _nnm.Apply(_batch, _context);

    /// <summary>A seeded batch: a common mean plus per-row noise of the same scale.</summary>
    public static GradientBatch CreateBatch(int rows, int dimension, int seed)
    {
        var batch = new GradientBatch(rows, dimension);
        var random = new Random(seed);
        var mean = new float[dimension];
        for (int j = 0; j < dimension; j++)
        {
            mean[j] = (float)(random.NextDouble() - 0.5);
        }

        for (int i = 0; i < rows; i++)
        {
            var row = batch.Row(i);
            for (int j = 0; j < dimension; j++)
            {
                row[j] = mean[j] + (float)(random.NextDouble() - 0.5);
            }
        }

        return batch;
    }

    /// <summary>
    /// A short Stopwatch harness for a shared machine (the full BenchmarkDotNet run is too heavy there): each rule is
    /// timed interleaved with the streaming read, after a warm-up, and the median and the minimum of each are reported
    /// with their ratio to the read. Runs on the calling thread. On Linux it also reports the ratio of the calling
    /// thread's CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), which other processes on a busy machine disturb less
    /// than wall time (they still share the memory bus and caches).
    /// </summary>
    public static string QuickRatios(int rows, int dimension, int repeats, int byzantineCount = 3, int maxDegreeOfParallelism = 1, string? only = null)
    {
        var batch = CreateBatch(rows, dimension, seed: 1);
        var output = new float[dimension];
        var context = new AggregationContext(byzantineCount) { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        var geometricMedian = new GeometricMedian();
        var rules = new (string Name, Action Run)[]
        {
            ("krum", MakeRule(new Krum(), batch, context, output)),
            ("multi-krum", MakeRule(new MultiKrum(), batch, context, output)),
            ("bulyan", MakeRule(new Bulyan(), batch, context, output)),
            ("geometric-median", MakeRule(geometricMedian, batch, context, output)),
            ("mda", MakeRule(new Mda(), batch, context, output)),
            ("nnm", MakePreAggregator(new Nnm(), batch, context)),
        };

        float sink = 0;
        var report = new StringBuilder();
        report.AppendLine($"n = {rows}, d = {dimension}, f = {byzantineCount}, threads = {maxDegreeOfParallelism}, repeats = {repeats}");
        foreach (var (name, run) in rules)
        {
            if (only is not null && !only.Split(',').Contains(name))
            {
                continue;
            }

            var read = new List<double>();
            var rule = new List<double>();
            var readCpu = new List<double>();
            var ruleCpu = new List<double>();
            for (int r = 0; r < repeats + 2; r++)
            {
                double cpu = ThreadCpuMilliseconds();
                long start = Stopwatch.GetTimestamp();
                sink += TensorPrimitives.Sum<float>(batch.AsSpan());
                double readMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                double readCpuMs = ThreadCpuMilliseconds() - cpu;
                cpu = ThreadCpuMilliseconds();
                start = Stopwatch.GetTimestamp();
                run();
                double ruleMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                double ruleCpuMs = ThreadCpuMilliseconds() - cpu;
                if (r >= 2)
                {
                    read.Add(readMs);
                    rule.Add(ruleMs);
                    readCpu.Add(readCpuMs);
                    ruleCpu.Add(ruleCpuMs);
                }
            }

            double readMedian = Median(read), ruleMedian = Median(rule);
            report.AppendLine(
                $"{name,-17} {ruleMedian,8:F2} ms (min {rule.Min(),7:F2})  read {readMedian,6:F2} ms (min {read.Min(),6:F2})  " +
                $"ratio median {ruleMedian / readMedian,5:F2}  min/min {rule.Min() / read.Min(),5:F2}  cpu-time median {Median(ruleCpu) / Median(readCpu),5:F2}");
        }

        report.AppendLine($"geometric median: {geometricMedian.LastIterations} coefficient iterations, {geometricMedian.LastExactPasses} exact passes (checksum {sink:G3})");
        return report.ToString();
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    // CLOCK_THREAD_CPUTIME_ID = 3 on Linux; elsewhere wall time stands in.
    private static double ThreadCpuMilliseconds()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(3, out var time) == 0)
        {
            return time.Seconds * 1e3 + time.Nanoseconds / 1e6;
        }

        return Stopwatch.GetTimestamp() * 1e3 / Stopwatch.Frequency;
    }

    private static Action MakeRule(IAggregator rule, GradientBatch batch, AggregationContext context, float[] output) =>
        () => rule.Aggregate(batch, context, output);

    private static Action MakePreAggregator(IPreAggregator pre, GradientBatch batch, AggregationContext context) =>
        () => pre.Apply(batch, context);

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted[sorted.Count / 2];
    }
}

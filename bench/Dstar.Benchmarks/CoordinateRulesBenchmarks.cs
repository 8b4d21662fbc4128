using System.Diagnostics;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using Dstar.Core;
using Dstar.Core.Specs;

namespace Dstar.Benchmarks;

/// <summary>
/// Coordinate-wise rules (mean, median, trimmed mean, meamed, dSTAR, centered clipping) on n rows of d = 1,000,000
/// floats, one thread, against a streaming read of the same batch (the baseline: every rule must at least read it).
/// Targets: mean ≤ 1.2×, median-like ≤ 1.5× (n = 16) and ≤ 3× (n = 64), dSTAR ≤ 2.5×, centered clipping ≤ 2.5× per
/// iteration. <see cref="QuickRatios"/> is a short Stopwatch harness for a shared machine.
/// </summary>
[MemoryDiagnoser]
public class CoordinateRulesBenchmarks
{
    private const int Dimension = 1_000_000;

    private GradientBatch _batch = null!;
    private float[] _output = null!;
    private AggregationContext _context = null!;
    private IAggregator _mean = null!, _median = null!, _trimmed = null!, _meamed = null!, _dstar = null!, _clipping = null!;

    /// <summary>Rows per batch.</summary>
    [Params(16, 64)]
    public int Rows { get; set; }

    /// <summary>Fills the batch and g₀ with seeded values in [−1, 1) and builds the rules through the registry.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_batch, _context) = MakeBatch(Rows, Dimension, seed: 1);
        _output = new float[Dimension];
        _mean = Registry.Rules.Create("mean");
        _median = Registry.Rules.Create("median");
        _trimmed = Registry.Rules.Create("trimmed-mean f=3");
        _meamed = Registry.Rules.Create("meamed f=3");
        _dstar = Registry.Rules.Create("dstar");
        _clipping = Registry.Rules.Create("centered-clipping");
    }

    /// <summary>Sum of all n·d floats with AVX-512 (Vector256 otherwise): what reading the batch once costs.</summary>
    [Benchmark(Baseline = true)]
    public float StreamingRead() => StreamingSum(_batch);

    /// <summary>mean.</summary>
    [Benchmark]
    public AggregationReport Mean() => _mean.Aggregate(_batch, _context, _output);

    /// <summary>median.</summary>
    [Benchmark]
    public AggregationReport Median() => _median.Aggregate(_batch, _context, _output);

    /// <summary>trimmed-mean f=3.</summary>
    [Benchmark]
    public AggregationReport TrimmedMean() => _trimmed.Aggregate(_batch, _context, _output);

    /// <summary>meamed f=3.</summary>
    [Benchmark]
    public AggregationReport Meamed() => _meamed.Aggregate(_batch, _context, _output);

    /// <summary>dstar (center=median, reference=validation, τ = 2).</summary>
    [Benchmark]
    public AggregationReport Dstar() => _dstar.Aggregate(_batch, _context, _output);

    /// <summary>centered-clipping (τ = 10, one iteration).</summary>
    [Benchmark]
    public AggregationReport CenteredClipping() => _clipping.Aggregate(_batch, _context, _output);

    /// <summary>
    /// A seeded batch of <paramref name="rows"/> × <paramref name="dimension"/> values in [−1, 1) and a context with
    /// f = 3 and a validation gradient drawn the same way.
    /// </summary>
    public static (GradientBatch Batch, AggregationContext Context) MakeBatch(int rows, int dimension, int seed)
    {
        var batch = new GradientBatch(rows, dimension);
        var random = new Random(seed);
        var buffer = batch.Buffer;
        for (int i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (float)(random.NextDouble() * 2 - 1);
        }

        var validation = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            validation[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return (batch, new AggregationContext(3) { ValidationGradient = validation });
    }

    /// <summary>Σ of every float of the batch, four independent vector accumulators.</summary>
    public static unsafe float StreamingSum(GradientBatch batch)
    {
        fixed (float* data = batch.Buffer)
        {
            long length = (long)batch.Count * batch.Dimension, i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> a = default, b = default, c = default, d = default;
                for (; i + 64 <= length; i += 64)
                {
                    a += Vector512.Load(data + i);
                    b += Vector512.Load(data + i + 16);
                    c += Vector512.Load(data + i + 32);
                    d += Vector512.Load(data + i + 48);
                }

                float total = Vector512.Sum(a + b + c + d);
                for (; i < length; i++)
                {
                    total += data[i];
                }

                return total;
            }

            Vector256<float> e = default, f = default;
            for (; i + 16 <= length; i += 16)
            {
                e += Vector256.Load(data + i);
                f += Vector256.Load(data + i + 8);
            }

            float rest = Vector256.Sum(e + f);
            for (; i < length; i++)
            {
                rest += data[i];
            }

            return rest;
        }
    }

    /// <summary>
    /// Short Stopwatch harness for a busy machine: warms every rule up (so the JIT has optimised it), then runs the
    /// streaming read and each rule interleaved, <paramref name="repeats"/> times (for each n in
    /// <paramref name="rowCounts"/>, default 16 and 64), and prints the median time of each
    /// and its ratio to the read measured in the same run. Run with <c>dotnet run -c Release -- quick-coordinate</c>.
    /// </summary>
    public static void QuickRatios(int repeats = 15, int degreeOfParallelism = 1, TextWriter? writer = null, int[]? rowCounts = null)
    {
        writer ??= Console.Out;
        string[] specs = ["mean", "median", "trimmed-mean f=3", "meamed f=3", "dstar", "centered-clipping"];
        foreach (int rows in rowCounts ?? [16, 64])
        {
            var (batch, context) = MakeBatch(rows, Dimension, seed: 1);
            var (small, smallContext) = MakeBatch(rows, 4096, seed: 2);
            context.MaxDegreeOfParallelism = degreeOfParallelism;
            var rules = specs.Select(s => Registry.Rules.Create(s)).ToArray();
            var output = new float[Dimension];
            for (int w = 0; w < 60; w++)
            {
                StreamingSum(small);
                foreach (var rule in rules)
                {
                    rule.Aggregate(small, smallContext, output.AsSpan(0, 4096));
                }
            }

            Thread.Sleep(200); // let the tiered JIT install its optimised code
            var times = new List<double>[specs.Length + 1];
            for (int c = 0; c < times.Length; c++)
            {
                times[c] = new List<double>();
            }

            for (int repeat = 0; repeat < repeats + 2; repeat++)
            {
                for (int c = 0; c < times.Length; c++)
                {
                    var clock = Stopwatch.StartNew();
                    if (c == 0)
                    {
                        StreamingSum(batch);
                    }
                    else
                    {
                        rules[c - 1].Aggregate(batch, context, output);
                    }

                    if (repeat >= 2)
                    {
                        times[c].Add(clock.Elapsed.TotalMilliseconds);
                    }
                }
            }

            // The fastest run is also shown: on a shared machine other work only ever adds time.
            double read = Median(times[0]), fastestRead = times[0].Min();
            writer.WriteLine($"n={rows} d={Dimension} threads={degreeOfParallelism} streaming read {read:F2} ms (fastest {fastestRead:F2} ms), batch at {AddressOf(batch) % 64} mod 64");
            for (int c = 1; c < times.Length; c++)
            {
                double t = Median(times[c]), fastest = times[c].Min();
                writer.WriteLine($"  {specs[c - 1],-20} {t,8:F2} ms  {t / read,5:F2}× the read   fastest {fastest,8:F2} ms  {fastest / fastestRead,5:F2}×");
            }
        }
    }

    private static unsafe long AddressOf(GradientBatch batch)
    {
        fixed (float* data = batch.Buffer)
        {
            return (long)data;
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}

using System.Diagnostics;
using System.Numerics.Tensors;
using Dstar.Core;
using Dstar.Core.Kernels;
using Dstar.Core.Specs;

namespace Dstar.Cli.Benchmarks;

/// <summary>
/// Times every rule and pre-aggregator of the registry, with default parameters, on one batch of Gaussian rows, and
/// compares each with a streaming read of the same batch measured in the same process, interleaved: every timed call of
/// a component is paired with a timed streaming read just before it, so both see the same machine load.
/// </summary>
/// <remarks>
/// Data: a common "true gradient" g ~ N(0, I); row i = g + N(0, I) noise; the validation gradient g₀ = g + N(0, I).
/// No row is Byzantine (timing only). Zeno gets a cheap quadratic validation loss F(y) = ½‖y‖² at parameters x = 0,
/// O(d) per call. Centered clipping starts from a previous aggregate (a copy of g₀), as in steady state.
/// Pre-aggregators are timed alone; each of their calls gets a fresh copy of the batch (copied outside the timing),
/// because they may change it in place.
/// </remarks>
public static class AggregatorBenchmark
{
    private static float _sink;

    /// <summary>The benchmark's settings.</summary>
    /// <param name="Rows">n, the rows of the batch.</param>
    /// <param name="Dimension">d, the length of each row.</param>
    /// <param name="ByzantineCount">f, given to every component through the context.</param>
    /// <param name="Threads">The components' MaxDegreeOfParallelism and the streaming read's thread count.</param>
    /// <param name="Repeats">Timed calls per component; the median is reported.</param>
    /// <param name="WarmUps">Untimed calls first (JIT, first-touch of scratch buffers).</param>
    /// <param name="Seed">Seed of the data and of every component's random source.</param>
    /// <param name="Only">When not empty, time only the components with these names (see <see cref="ComponentNames"/>).</param>
    public sealed record Settings(int Rows, int Dimension, int ByzantineCount, int Threads, int Repeats, int WarmUps, int Seed, IReadOnlyList<string>? Only = null);

    /// <summary>Every component name the benchmark times, in order.</summary>
    public static IReadOnlyList<string> ComponentNames => Components().Select(c => c.Name).ToList();

    /// <summary>One timed component, or one that was skipped with the reason.</summary>
    /// <param name="Name">The registry name (with parameters when not the default, e.g. <c>centered-clipping iterations=1</c>).</param>
    /// <param name="Kind"><c>rule</c> or <c>pre-aggregator</c>.</param>
    /// <param name="Milliseconds">Median time of one call; null when skipped.</param>
    /// <param name="StreamReadMilliseconds">Median time of the streaming reads interleaved with this component's calls.</param>
    /// <param name="Skipped">Why the component could not run at (n, f); null when it ran.</param>
    /// <param name="FastestMilliseconds">The fastest timed call; null when skipped.</param>
    /// <param name="FastestStreamReadMilliseconds">The fastest of the streaming reads interleaved with this component.</param>
    public sealed record Timing(
        string Name,
        string Kind,
        double? Milliseconds,
        double? StreamReadMilliseconds,
        string? Skipped,
        double? FastestMilliseconds = null,
        double? FastestStreamReadMilliseconds = null)
    {
        /// <summary>Milliseconds / the interleaved streaming read's milliseconds (medians); null when skipped.</summary>
        public double? Ratio => Milliseconds / StreamReadMilliseconds;

        /// <summary>
        /// The fastest call / the fastest interleaved read: on a machine shared with other work, the ratio least
        /// disturbed by it. Null when skipped.
        /// </summary>
        public double? FastestRatio => FastestMilliseconds / FastestStreamReadMilliseconds;
    }

    /// <summary>The outcome: the overall streaming-read median and one timing per component.</summary>
    /// <param name="Settings">What was run.</param>
    /// <param name="StreamReadMilliseconds">Median of every streaming read of the run.</param>
    /// <param name="Timings">Rules first, then pre-aggregators, in registry order.</param>
    /// <param name="LoadAverage">The 1-minute load average at the start and the end (Linux /proc/loadavg), when known:
    /// a machine shared with other work shows it here.</param>
    public sealed record Result(Settings Settings, double StreamReadMilliseconds, IReadOnlyList<Timing> Timings, (double Start, double End)? LoadAverage);

    /// <summary>Runs the benchmark; <paramref name="progress"/> receives one line per component.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of range (n, d, repeats, threads ≥ 1; f, warm-ups ≥ 0).</exception>
    public static Result Run(Settings settings, Action<string> progress)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Rows, 1, nameof(settings.Rows));
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Dimension, 1, nameof(settings.Dimension));
        ArgumentOutOfRangeException.ThrowIfNegative(settings.ByzantineCount, nameof(settings.ByzantineCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Threads, 1, nameof(settings.Threads));
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Repeats, 1, nameof(settings.Repeats));
        ArgumentOutOfRangeException.ThrowIfNegative(settings.WarmUps, nameof(settings.WarmUps));

        int n = settings.Rows, d = settings.Dimension;
        var loadAtStart = OneMinuteLoad();
        progress($"generating {n} × {d} Gaussian rows ({(long)n * d * 4 / 1e6:F1} MB)");
        var (batch, validation) = Generate(n, d, settings.Seed);
        var scratch = new GradientBatch(n, d);
        var output = new float[d];
        var streamSamples = new List<double>();
        var timings = new List<Timing>();

        var only = settings.Only ?? [];
        var components = Components().Where(c => only.Count == 0 || only.Contains(c.Name)).ToList();
        for (int index = 0; index < components.Count; index++)
        {
            var (name, kind, build) = components[index];
            progress($"[{index + 1}/{components.Count}] {kind} {name}");
            var context = Context(settings, validation);
            timings.Add(Time(name, kind, build, context, batch, scratch, output, settings, streamSamples));
        }

        var loadAtEnd = OneMinuteLoad();
        var load = loadAtStart is { } start && loadAtEnd is { } end ? (start, end) : ((double, double)?)null;
        return new Result(settings, Median(streamSamples), timings, load);
    }

    /// <summary>The 1-minute load average (Linux /proc/loadavg), or null where there is none.</summary>
    internal static double? OneMinuteLoad()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var load) ? load : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The components in the order they are timed: every rule, centered clipping with one iteration (its per-iteration
    /// cost), dSTAR with our checks, then every pre-aggregator.
    /// </summary>
    private static readonly string[] DstarVariants =
    [
        "dstar direction=0 duplicates=0.05 reference=quantile",
        "dstar direction=0 duplicates=0.05 reference=quantile mean=clipped",
    ];

    private static IEnumerable<(string Name, string Kind, Func<object> Build)> Components()
    {
        foreach (var name in Registry.Rules.Names)
        {
            yield return (name, "rule", () => Registry.Rules.Create(name));
            if (name == "centered-clipping")
            {
                const string single = "centered-clipping iterations=1";
                yield return (single, "rule", () => Registry.Rules.Create(single));
            }

            if (name == "dstar")
            {
                // Our checks against g₀ (one more pass: norms and dot products) and the clipped mean of the kept set.
                foreach (var variant in DstarVariants)
                {
                    yield return (variant, "rule", () => Registry.Rules.Create(variant));
                }
            }
        }

        foreach (var name in Registry.PreAggregators.Names)
        {
            yield return (name, "pre-aggregator", () => Registry.PreAggregators.Create(name));
        }
    }

    private static Timing Time(
        string name,
        string kind,
        Func<object> build,
        AggregationContext context,
        GradientBatch batch,
        GradientBatch scratch,
        float[] output,
        Settings settings,
        List<double> streamSamples)
    {
        object component;
        try
        {
            component = build();
        }
        catch (SpecException e)
        {
            return new Timing(name, kind, null, null, e.Message);
        }

        Action call;
        switch (component)
        {
            case IAggregator rule:
                if (rule.CheckRequirements(batch.Count, settings.ByzantineCount, hasValidationGradient: true) is { } why)
                {
                    return new Timing(name, kind, null, null, why);
                }

                call = () => rule.Aggregate(batch, context, output);
                break;
            case IPreAggregator pre:
                call = () => pre.Apply(scratch, context);
                break;
            default:
                throw new InvalidOperationException($"{name} is neither a rule nor a pre-aggregator");
        }

        bool restore = component is IPreAggregator;
        var own = new double[settings.Repeats];
        var reads = new double[settings.Repeats];
        try
        {
            for (int i = 0; i < settings.WarmUps; i++)
            {
                StreamRead(batch, settings.Threads);
                Prepare(restore, batch, scratch);
                call();
            }

            for (int i = 0; i < settings.Repeats; i++)
            {
                reads[i] = Milliseconds(() => StreamRead(batch, settings.Threads));
                Prepare(restore, batch, scratch);
                own[i] = Milliseconds(call);
            }
        }
        catch (AggregationException e)
        {
            return new Timing(name, kind, null, null, e.Message);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            // A component that fails unexpectedly is listed, not allowed to end the whole benchmark.
            return new Timing(name, kind, null, null, $"failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
        }

        streamSamples.AddRange(reads);
        return new Timing(name, kind, Median(own), Median(reads), null, own.Min(), reads.Min());
    }

    private static void Prepare(bool restore, GradientBatch batch, GradientBatch scratch)
    {
        if (restore)
        {
            scratch.Count = batch.Count;
            batch.AsSpan().CopyTo(scratch.AsSpan());
        }
    }

    private static AggregationContext Context(Settings settings, float[] validation)
    {
        var zero = new float[settings.Dimension];
        return new AggregationContext(settings.ByzantineCount, new Random(settings.Seed))
        {
            ValidationGradient = validation,
            PreviousAggregate = (float[])validation.Clone(),
            Parameters = zero,
            ValidationLoss = static y => 0.5 * TensorPrimitives.SumOfSquares(y),
            MaxDegreeOfParallelism = settings.Threads,
        };
    }

    /// <summary>Reads every value of the batch once (a vectorised sum), on <paramref name="threads"/> threads.</summary>
    public static void StreamRead(GradientBatch batch, int threads)
    {
        var data = batch.Buffer;
        int length = batch.Count * batch.Dimension;
        if (threads == 1)
        {
            _sink += TensorPrimitives.Sum(data.AsSpan(0, length));
            return;
        }

        // Chunks aligned to 16 floats (one cache line), one per thread.
        int chunk = (length / threads + 15) & ~15;
        var partial = new float[threads];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int start = Math.Min(length, t * chunk);
            int end = Math.Min(length, start + chunk);
            partial[t] = TensorPrimitives.Sum(data.AsSpan(start, end - start));
        });
        _sink += partial.Sum();
    }

    private static double Milliseconds(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(IReadOnlyCollection<double> samples)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        var sorted = samples.Order().ToArray();
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    private static (GradientBatch Batch, float[] Validation) Generate(int n, int d, int seed)
    {
        var random = new Random(seed);
        var truth = new float[d];
        StandardNormal.Fill(random, truth);
        var batch = new GradientBatch(n, d);
        for (int i = 0; i < n; i++)
        {
            var row = batch.Row(i);
            StandardNormal.Fill(random, row);
            TensorPrimitives.Add(row, truth, row);
        }

        var validation = new float[d];
        StandardNormal.Fill(random, validation);
        TensorPrimitives.Add(validation, truth, validation);
        return (batch, validation);
    }
}

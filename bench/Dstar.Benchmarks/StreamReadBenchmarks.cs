using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Dstar.Core;
using Dstar.Core.Specs;

namespace Dstar.Benchmarks;

/// <summary>
/// Every rule of the registry (default parameters) against a streaming read of the same n × d batch, the yardstick of
/// issue 2: BenchmarkDotNet reports each rule's ratio to the <see cref="StreamRead"/> baseline of the same parameters.
/// Rules that cannot run at (n, f) throw during setup and are reported by BenchmarkDotNet as failed.
/// </summary>
[MemoryDiagnoser]
public class StreamReadBenchmarks
{
    private GradientBatch _batch = null!;
    private IAggregator _rule = null!;
    private AggregationContext _context = null!;
    private float[] _output = null!;

    [Params(16, 64)]
    public int N { get; set; }

    [Params(1_000_000)]
    public int D { get; set; }

    [Params(3)]
    public int F { get; set; }

    [ParamsSource(nameof(RuleNames))]
    public string Rule { get; set; } = "mean";

    public static IEnumerable<string> RuleNames => Registry.Rules.Names.Where(name => name != "zeno");

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(0);
        _batch = new GradientBatch(N, D);
        var data = _batch.AsSpan();
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(random.NextDouble() * 2 - 1);
        }

        var validation = new float[D];
        for (int j = 0; j < D; j++)
        {
            validation[j] = (float)(random.NextDouble() * 2 - 1);
        }

        _rule = Registry.Rules.Create(Rule);
        if (_rule.CheckRequirements(N, F, hasValidationGradient: true) is { } why)
        {
            throw new InvalidOperationException(why);
        }

        _context = new AggregationContext(F, new Random(0)) { ValidationGradient = validation, PreviousAggregate = (float[])validation.Clone() };
        _output = new float[D];
    }

    [Benchmark(Baseline = true)]
    public float StreamRead() => TensorPrimitives.Sum(_batch.AsSpan());

    [Benchmark]
    public AggregationReport Aggregate() => _rule.Aggregate(_batch, _context, _output);
}

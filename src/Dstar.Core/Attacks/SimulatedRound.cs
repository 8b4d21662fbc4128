using System.Numerics.Tensors;
using Dstar.Core.Kernels;

namespace Dstar.Core.Attacks;

/// <summary>
/// The server's round as an attacker replays it: honest rows ∪ f copies of a candidate b, through the actual
/// <see cref="AggregationPipeline"/>, scored by the damage ‖agg − μ‖₂. Used by the optimal ALIE and IPM searches.
/// </summary>
/// <remarks>
/// The honest rows are copied once per round into a scratch batch kept across rounds; each evaluation writes the f
/// candidate rows after them, and copies the honest rows again only when the pipeline has pre-aggregators (which may
/// change their input in place; rules never do). Every evaluation gets a context whose random source restarts from the same seed, so that candidates are
/// compared on the same draws (bucketing) and the server's own random stream is never consumed by the search.
/// </remarks>
internal sealed class SimulatedRound
{
    private GradientBatch? _batch;
    private float[]? _output;
    private AggregationPipeline? _pipeline;
    private AggregationContext? _context;
    private GradientBatch? _honest;
    private int _copies;
    private int _seed;
    private string _attack = "";

    /// <summary>Prepares a search over one round; fails when there is no pipeline to search through.</summary>
    public void Begin(string attack, GradientBatch honest, AttackContext context, int copies)
    {
        _pipeline = context.Pipeline
            ?? throw new AttackException($"{attack} searches through the server's aggregation pipeline, but AttackContext.Pipeline is null; give it the pipeline the server runs");
        var server = context.AggregationContext;
        _context = new AggregationContext(server?.ByzantineCount ?? context.ByzantineCount)
        {
            ValidationGradient = server?.ValidationGradient,
            PreviousAggregate = server?.PreviousAggregate,
            Parameters = server?.Parameters,
            ValidationLoss = server?.ValidationLoss,
            MaxDegreeOfParallelism = server?.MaxDegreeOfParallelism ?? 1,
        };
        _attack = attack;
        _honest = honest;
        _copies = copies;
        _seed = context.Random.Next();
        int rows = honest.Count + copies;
        if (_batch is null || _batch.Capacity != rows || _batch.Dimension != honest.Dimension)
        {
            _batch = new GradientBatch(rows, honest.Dimension);
        }

        _output = Scratch.Exactly(ref _output, honest.Dimension);
        _batch.Count = rows;
        honest.AsSpan().CopyTo(_batch.Buffer);
    }

    /// <summary>‖pipeline(honest ∪ copies of <paramref name="candidate"/>) − <paramref name="mean"/>‖₂.</summary>
    public double Damage(ReadOnlySpan<float> candidate, ReadOnlySpan<float> mean)
    {
        var batch = _batch!;
        var honest = _honest!;
        batch.Count = batch.Capacity;
        if (_pipeline!.PreAggregators.Count > 0)
        {
            honest.AsSpan().CopyTo(batch.Buffer);
        }

        for (int i = 0; i < _copies; i++)
        {
            candidate.CopyTo(batch.Row(honest.Count + i));
        }

        _context!.Random = new Random(_seed);
        try
        {
            _pipeline!.Aggregate(batch, _context, _output);
        }
        catch (AggregationException e)
        {
            throw new AttackException($"{_attack}: the pipeline '{_pipeline!.Name}' refused the simulated round of {batch.Count} rows: {e.Message}");
        }

        return TensorPrimitives.Distance<float>(_output, mean);
    }
}

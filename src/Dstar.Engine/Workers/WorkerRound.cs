using Dstar.Core;
using Dstar.Core.Attacks;
using Dstar.Core.Stragglers;
using Dstar.Engine.Randomness;
using Dstar.Learning;

namespace Dstar.Engine.Workers;

/// <summary>
/// What the workers of a run do in round t, written once for the simulated transport and the cluster worker, so a
/// cluster and a simulation of the same config compute the same gradients and response times:
/// <list type="bullet">
/// <item>response times: one <see cref="IDelayModel"/> draw per worker, in id order, from the (seed, t, delays)
/// stream; fast Byzantine workers answer at 0 but still draw, so the honest times do not depend on the attack timing;</item>
/// <item>an honest gradient: the oracle's gradient at x_t on b samples drawn with replacement from the worker's shard
/// with the (seed, t, minibatch, w) stream; a label-flip Byzantine worker does the same with y' = C − 1 − y;</item>
/// <item>crafted gradients: the attack, given the honest rows the attacker sees, writes the f Byzantine rows (slot j
/// for worker N − f + j) with the (seed, t, attack) stream.</item>
/// </list>
/// </summary>
/// <remarks>The caller loads x_t into the oracle (<see cref="IGradientOracle.SetParameters"/>) before computing gradients.</remarks>
public sealed class WorkerRound
{
    private readonly IReadOnlyList<int[]> _shards;
    private readonly int[] _minibatch;

    /// <summary>Creates the workers' round computation.</summary>
    /// <param name="oracle">Computes the gradients (shared; its parameters are set by the caller).</param>
    /// <param name="shards">Per worker, the training-sample indices it owns (N entries, none empty).</param>
    /// <param name="batchSize">b ≥ 1.</param>
    /// <param name="delay">The response-time model.</param>
    /// <param name="k">The server's k (the attack context's n).</param>
    /// <param name="seed">The run seed.</param>
    /// <param name="byzantine">The Byzantine workers, or null for none.</param>
    /// <param name="pipeline">The server's pipeline, given to attacks that search through it.</param>
    /// <exception cref="ArgumentException">an empty shard, a batch size below 1, or a Byzantine set of another N.</exception>
    public WorkerRound(IGradientOracle oracle, IReadOnlyList<int[]> shards, int batchSize, IDelayModel delay, int k, int seed,
        ByzantineSetup? byzantine = null, AggregationPipeline? pipeline = null)
    {
        Oracle = oracle ?? throw new ArgumentNullException(nameof(oracle));
        _shards = shards ?? throw new ArgumentNullException(nameof(shards));
        Delay = delay ?? throw new ArgumentNullException(nameof(delay));
        if (shards.Count == 0)
        {
            throw new ArgumentException("there are no workers", nameof(shards));
        }

        for (int w = 0; w < shards.Count; w++)
        {
            if (shards[w] is null || shards[w].Length == 0)
            {
                throw new ArgumentException($"worker {w} has an empty data shard", nameof(shards));
            }
        }

        if (batchSize < 1)
        {
            throw new ArgumentException($"batch size must be ≥ 1, got {batchSize}", nameof(batchSize));
        }

        if (byzantine is not null && byzantine.Set.WorkerCount != shards.Count)
        {
            throw new ArgumentException($"the Byzantine set is for N = {byzantine.Set.WorkerCount} workers, there are {shards.Count}", nameof(byzantine));
        }

        K = k;
        Seed = seed;
        Byzantine = byzantine;
        Pipeline = pipeline;
        _minibatch = new int[batchSize];
    }

    /// <summary>N.</summary>
    public int WorkerCount => _shards.Count;

    /// <summary>The oracle the gradients come from.</summary>
    public IGradientOracle Oracle { get; }

    /// <summary>The response-time model.</summary>
    public IDelayModel Delay { get; }

    /// <summary>k, as given.</summary>
    public int K { get; }

    /// <summary>The run seed.</summary>
    public int Seed { get; }

    /// <summary>The Byzantine workers, or null.</summary>
    public ByzantineSetup? Byzantine { get; }

    /// <summary>The server's pipeline, passed to attacks.</summary>
    public AggregationPipeline? Pipeline { get; }

    /// <summary>
    /// Worker momentum (<c>worker_momentum</c>), or null: applied to every gradient a worker computes as its own
    /// (not to the honest view a Byzantine worker computes for its attack).
    /// </summary>
    public WorkerMomentum? Momentum { get; set; }

    /// <summary>True when <paramref name="worker"/> is Byzantine.</summary>
    public bool IsByzantine(int worker) => Byzantine?.Set.Contains(worker) == true;

    /// <summary>Whether <paramref name="worker"/>'s gradient is crafted by the attack (rather than computed by the oracle).</summary>
    public bool IsCrafted(int worker) => Byzantine is { Attack: not null } && IsByzantine(worker);

    /// <summary>
    /// Every worker's response time for <paramref name="round"/> into <paramref name="delays"/> (N values; +∞: never
    /// answers this round), 0 for fast Byzantine workers.
    /// </summary>
    /// <exception cref="InvalidOperationException">the delay model returned NaN or a negative time.</exception>
    public void SampleDelays(long round, Span<double> delays)
    {
        if (delays.Length != WorkerCount)
        {
            throw new ArgumentException($"{delays.Length} delays for {WorkerCount} workers", nameof(delays));
        }

        var random = RandomStreams.Create(Seed, round, StreamPurpose.Delays);
        bool fast = Byzantine?.Timing == ByzantineTiming.Fast;
        int roundIndex = (int)Math.Min(round, int.MaxValue);
        for (int w = 0; w < delays.Length; w++)
        {
            // Every worker draws, so that the honest workers' times do not depend on the Byzantine timing.
            double time = Delay.Sample(w, roundIndex, random);
            if (double.IsNaN(time) || time < 0)
            {
                throw new InvalidOperationException($"delay model '{Delay.Name}' returned {time} for worker {w} in round {round}; times must be ≥ 0 or +∞");
            }

            delays[w] = fast && IsByzantine(w) ? 0 : time;
        }
    }

    /// <summary>
    /// Worker <paramref name="worker"/>'s oracle gradient for <paramref name="round"/> into <paramref name="gradient"/>:
    /// honest, or on flipped labels for a label-flip Byzantine worker (with <paramref name="honest"/>, always honest: the
    /// view an attacker computes of another worker).
    /// </summary>
    public void ComputeGradient(int worker, long round, Span<float> gradient, bool honest = false)
    {
        ComputeOracleGradient(worker, round, gradient, Oracle, _minibatch, honest);
        if (!honest)
        {
            Momentum?.Apply(worker, gradient);
        }
    }

    /// <summary>b, each worker's minibatch size.</summary>
    public int BatchSize => _minibatch.Length;

    /// <summary>
    /// Worker <paramref name="worker"/>'s oracle gradient for <paramref name="round"/>, as
    /// <see cref="ComputeGradient"/> computes it but on <paramref name="oracle"/> (a replica holding x_t) with
    /// <paramref name="minibatch"/> as scratch, and without worker momentum, which the caller applies afterwards
    /// (<see cref="Momentum"/>). Threads that each own an oracle and a scratch array may call it at once: it reads
    /// only the shards, the seed and the Byzantine set.
    /// </summary>
    /// <param name="worker">The worker.</param>
    /// <param name="round">t.</param>
    /// <param name="gradient">d floats.</param>
    /// <param name="oracle">An oracle whose parameters are x_t.</param>
    /// <param name="minibatch">b ints of scratch.</param>
    /// <param name="honest">Always honest labels (the view an attacker computes of another worker).</param>
    public void ComputeOracleGradient(int worker, long round, Span<float> gradient, IGradientOracle oracle, int[] minibatch, bool honest = false)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        if (minibatch is null || minibatch.Length != _minibatch.Length)
        {
            throw new ArgumentException($"the minibatch scratch must hold b = {_minibatch.Length} indices", nameof(minibatch));
        }

        var shard = _shards[worker];
        var random = RandomStreams.Create(Seed, round, StreamPurpose.Minibatch, worker);
        for (int i = 0; i < minibatch.Length; i++)
        {
            minibatch[i] = shard[random.Next(shard.Length)];
        }

        oracle.ComputeGradient(minibatch, gradient, flipLabels: !honest && IsByzantine(worker) && Byzantine!.FlipsLabels);
    }

    /// <summary>
    /// The attack crafts the f Byzantine rows of <paramref name="round"/> into <paramref name="target"/> (slot order)
    /// from the <paramref name="honest"/> rows the attacker sees, which it reads in place and must not change.
    /// </summary>
    /// <param name="honest">The honest gradients the attacker sees.</param>
    /// <param name="round">t.</param>
    /// <param name="serverContext">The context the server aggregates with (g₀, f), for omniscient attacks; null when unknown.</param>
    /// <param name="target">f rows.</param>
    /// <exception cref="InvalidOperationException">there is no crafting attack.</exception>
    public void Craft(GradientBatch honest, long round, AggregationContext? serverContext, GradientBatch target)
    {
        var attack = Byzantine?.Attack ?? throw new InvalidOperationException("this run has no crafting attack");
        var context = new AttackContext(K, Byzantine.Set.Count, RandomStreams.Create(Seed, round, StreamPurpose.Attack))
        {
            Pipeline = Pipeline,
            AggregationContext = serverContext,
        };
        attack.Craft(honest, context, target);
    }
}

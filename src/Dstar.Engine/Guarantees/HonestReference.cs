using Dstar.Engine.Randomness;
using Dstar.Learning;

namespace Dstar.Engine.Guarantees;

/// <summary>
/// What the honest workers give at a point x, against which a rule's output is judged: the true gradient
/// g = ∇F(x) = (1/|H|) Σ_{w∈H} ∇F_w(x), where F_w is the mean loss over worker w's whole shard (the objective that
/// plain mean SGD descends; with equal shards it is the gradient over all honest samples), and the moments of one
/// honest worker's minibatch gradient ĝ.
/// </summary>
/// <param name="Gradient">g, d floats.</param>
/// <param name="GradientNorm">‖g‖.</param>
/// <param name="NoiseSquared">E‖ĝ − g‖² = d·σ² in the notation of Blanchard et al. (2017).</param>
/// <param name="Moments">E‖ĝ‖^r for r = 2, 3, 4 (index 0, 1, 2).</param>
/// <param name="Samples">How many minibatch gradients the moments average (honest workers × draws).</param>
public sealed record HonestReference(float[] Gradient, double GradientNorm, double NoiseSquared, double[] Moments, int Samples)
{
    /// <summary>The orders r of <see cref="Moments"/>.</summary>
    public static IReadOnlyList<int> MomentOrders { get; } = [2, 3, 4];

    /// <summary>√d·σ/‖g‖: the honest noise against the signal (Krum's condition is η(n, f)·√d·σ &lt; ‖g‖).</summary>
    public double NoiseRatio => Math.Sqrt(NoiseSquared) / GradientNorm;

    /// <summary>
    /// ∇F_w(x): the gradient of the mean loss over <paramref name="shard"/> at the oracle's current parameters,
    /// computed in chunks of at most <paramref name="chunk"/> samples and averaged with the chunk sizes as weights.
    /// </summary>
    public static float[] ShardGradient(IGradientOracle oracle, int[] shard, int chunk = 1024)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        int d = oracle.ParameterCount;
        var sum = new double[d];
        var part = new float[d];
        for (int start = 0; start < shard.Length; start += chunk)
        {
            int count = Math.Min(chunk, shard.Length - start);
            oracle.ComputeGradient(shard.AsSpan(start, count), part);
            for (int j = 0; j < d; j++)
            {
                sum[j] += (double)part[j] * count;
            }
        }

        var result = new float[d];
        for (int j = 0; j < d; j++)
        {
            result[j] = (float)(sum[j] / shard.Length);
        }

        return result;
    }

    /// <summary>
    /// g from the honest workers' shard gradients, and the moments of their minibatch gradients over
    /// <paramref name="draws"/> rounds. Worker w's minibatch in round t is drawn as the simulated transport draws it
    /// (b indices with replacement from its shard, the (seed, t, minibatch, w) stream), so a caching oracle serves the
    /// transports' honest gradients from these computations.
    /// </summary>
    /// <param name="oracle">Computes minibatch gradients; its parameters must already be x.</param>
    /// <param name="shards">Every worker's shard.</param>
    /// <param name="honestWorkers">H (not empty).</param>
    /// <param name="shardGradients">∇F_w(x) for each w in H (indexed by worker id).</param>
    /// <param name="batchSize">b.</param>
    /// <param name="seed">The run seed.</param>
    /// <param name="firstRound">The round of draw 0.</param>
    /// <param name="draws">R ≥ 1.</param>
    /// <exception cref="ArgumentException">H is empty, or g = 0 (nothing to measure an angle against).</exception>
    public static HonestReference Compute(
        IGradientOracle oracle,
        IReadOnlyList<int[]> shards,
        IReadOnlyList<int> honestWorkers,
        IReadOnlyList<float[]?> shardGradients,
        int batchSize,
        int seed,
        long firstRound,
        int draws)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        if (honestWorkers.Count == 0)
        {
            throw new ArgumentException("there are no honest workers", nameof(honestWorkers));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(draws, 1);
        int d = oracle.ParameterCount;
        var mean = new double[d];
        foreach (var w in honestWorkers)
        {
            var gw = shardGradients[w] ?? throw new ArgumentException($"no shard gradient for honest worker {w}", nameof(shardGradients));
            for (int j = 0; j < d; j++)
            {
                mean[j] += gw[j];
            }
        }

        var g = new float[d];
        double norm2 = 0;
        for (int j = 0; j < d; j++)
        {
            g[j] = (float)(mean[j] / honestWorkers.Count);
            norm2 += (double)g[j] * g[j];
        }

        if (!(norm2 > 0) || !double.IsFinite(norm2))
        {
            throw new ArgumentException($"the honest gradient has norm {Math.Sqrt(norm2)}: the angle condition needs ‖g‖ > 0 (x is a stationary point)");
        }

        var minibatch = new int[batchSize];
        var gradient = new float[d];
        var moments = new double[MomentOrders.Count];
        double noise = 0;
        int samples = 0;
        for (int r = 0; r < draws; r++)
        {
            foreach (var w in honestWorkers)
            {
                var shard = shards[w];
                var random = RandomStreams.Create(seed, firstRound + r, StreamPurpose.Minibatch, w);
                for (int i = 0; i < batchSize; i++)
                {
                    minibatch[i] = shard[random.Next(shard.Length)];
                }

                oracle.ComputeGradient(minibatch, gradient);
                double squared = 0, deviation = 0;
                for (int j = 0; j < d; j++)
                {
                    squared += (double)gradient[j] * gradient[j];
                    double e = (double)gradient[j] - g[j];
                    deviation += e * e;
                }

                for (int m = 0; m < moments.Length; m++)
                {
                    moments[m] += Math.Pow(squared, MomentOrders[m] / 2.0);
                }

                noise += deviation;
                samples++;
            }
        }

        for (int m = 0; m < moments.Length; m++)
        {
            moments[m] /= samples;
        }

        return new HonestReference(g, Math.Sqrt(norm2), noise / samples, moments, samples);
    }
}

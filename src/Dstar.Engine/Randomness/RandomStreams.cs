namespace Dstar.Engine.Randomness;

/// <summary>What a random stream is used for; each purpose gets its own independent stream.</summary>
public enum StreamPurpose
{
    /// <summary>Worker response times.</summary>
    Delays = 1,

    /// <summary>A worker's minibatch indices (index = worker id).</summary>
    Minibatch = 2,

    /// <summary>The attack's own randomness.</summary>
    Attack = 3,

    /// <summary>Rules and pre-aggregators that draw (bucketing, median-of-means).</summary>
    Aggregation = 4,

    /// <summary>The server's validation minibatch.</summary>
    Validation = 5,

    /// <summary>Data generation and partitioning (round = 0).</summary>
    Data = 6,

    /// <summary>Model initialisation (round = 0).</summary>
    Initialization = 7,
}

/// <summary>
/// Seeded generators derived from (seed, round, purpose, index) by a hash, so each round's randomness is a pure
/// function of those numbers. That makes resuming from a checkpoint exact without serialising any generator state
/// (System.Random's state cannot be saved), and it keeps purposes independent: drawing one more delay never shifts a
/// minibatch.
/// </summary>
public static class RandomStreams
{
    /// <summary>A new generator for (<paramref name="seed"/>, <paramref name="round"/>, <paramref name="purpose"/>, <paramref name="index"/>).</summary>
    public static Random Create(int seed, long round, StreamPurpose purpose, int index = 0) =>
        new(DeriveSeed(seed, round, purpose, index));

    /// <summary>The 31-bit seed used by <see cref="Create"/>: SplitMix64 (Steele, Lea, Flood 2014) folded over the four inputs.</summary>
    public static int DeriveSeed(int seed, long round, StreamPurpose purpose, int index = 0)
    {
        ulong h = Mix((ulong)(uint)seed);
        h = Mix(h ^ (ulong)round);
        h = Mix(h ^ (ulong)(int)purpose);
        h = Mix(h ^ (ulong)(uint)index);
        return (int)(h & 0x7FFF_FFFF);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E37_79B9_7F4A_7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }
}

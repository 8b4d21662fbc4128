using Dstar.Core.Aggregation;
using Dstar.Engine.Server;
using Dstar.Engine.Simulation;

namespace Dstar.Engine.Checkpoints;

/// <summary>
/// A component whose state between rounds a checkpoint carries as a <see cref="CheckpointSection"/>, so that a resumed
/// run continues exactly as an uninterrupted one.
/// </summary>
public interface ICheckpointPart
{
    /// <summary>Its section's kind.</summary>
    CheckpointSectionKind Kind { get; }

    /// <summary>What the state is, for messages (e.g. "the k: auto controller's window").</summary>
    string Description { get; }

    /// <summary>The state now, encoded.</summary>
    byte[] Save();

    /// <summary>
    /// Decodes and checks <paramref name="payload"/> without changing anything, and returns what installs it.
    /// </summary>
    /// <exception cref="InvalidDataException">the bytes are truncated or do not fit this run (the message says how).</exception>
    Action Load(ReadOnlySpan<byte> payload);
}

/// <summary>The checkpoint parts of a run's components.</summary>
public static class CheckpointParts
{
    /// <summary>The server's parts: <c>k: auto</c>'s state and dstar's reputation, when it has them.</summary>
    public static IReadOnlyList<ICheckpointPart> Of(ParameterServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var parts = new List<ICheckpointPart>();
        if (server.AdaptiveK is not null)
        {
            parts.Add(new AutoKPart(server));
        }

        if (server.Pipeline.Rule is DstarFilter { Reputation: { } reputation })
        {
            parts.Add(new ReputationPart(reputation));
        }

        return parts;
    }

    /// <summary>The simulated workers' part: their momenta, when <c>worker_momentum</c> is on.</summary>
    public static IReadOnlyList<ICheckpointPart> Of(SimulatedTransport transport, ParameterServer server)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(server);
        return transport.Momentum is null ? [] : [new WorkerMomentumPart(transport, server)];
    }

    /// <summary>Runs <paramref name="decode"/> over a reader of <paramref name="payload"/>, which it must read to the end.</summary>
    /// <exception cref="InvalidDataException">the payload is truncated, has bytes left over, or <paramref name="decode"/> refused it.</exception>
    internal static T Decode<T>(ReadOnlySpan<byte> payload, Func<BinaryReader, T> decode)
    {
        using var reader = new BinaryReader(new MemoryStream(payload.ToArray(), writable: false));
        try
        {
            var value = decode(reader);
            if (reader.BaseStream.Position != reader.BaseStream.Length)
            {
                throw new InvalidDataException($"{reader.BaseStream.Length - reader.BaseStream.Position} bytes left over");
            }

            return value;
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException(e is EndOfStreamException ? "truncated" : e.Message);
        }
    }

    /// <summary>A count read from a payload, refused when negative or above <paramref name="maximum"/>.</summary>
    internal static int Count(BinaryReader reader, int maximum, string what)
    {
        int count = reader.ReadInt32();
        return count >= 0 && count <= maximum ? count : throw new InvalidDataException($"{count} {what}, expected 0..{maximum}");
    }

    internal static byte[] Encode(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            write(writer);
        }

        return stream.ToArray();
    }
}

/// <summary><c>k: auto</c>: the policy's window, the virtual clock, the late times not yet revealed and the publish times.</summary>
internal sealed class AutoKPart(ParameterServer server) : ICheckpointPart
{
    public CheckpointSectionKind Kind => CheckpointSectionKind.AutoK;

    public string Description => "the k: auto controller's window";

    public byte[] Save()
    {
        var state = server.CaptureAutoK()!;
        return CheckpointParts.Encode(w =>
        {
            w.Write(state.VirtualNow);
            w.Write(state.Window.Count);
            foreach (var o in state.Window)
            {
                w.Write(o.Round);
                w.Write(o.PublishTime);
                w.Write(o.LateMayArrive);
                w.Write(o.Times.Length);
                foreach (var t in o.Times)
                {
                    w.Write(t);
                }

                WriteOptional(w, o.Variance);
                WriteOptional(w, o.SquaredMean);
                w.Write(o.Kept?.Length ?? -1);
                foreach (var k in o.Kept ?? [])
                {
                    w.Write(k);
                }
            }

            WritePairs(w, state.PendingLate);
            WritePairs(w, state.PublishTimes);
        });
    }

    public Action Load(ReadOnlySpan<byte> payload)
    {
        int n = server.Options.WorkerCount;
        var state = CheckpointParts.Decode(payload, r =>
        {
            double now = r.ReadDouble();
            var window = new KObservation[CheckpointParts.Count(r, AdaptiveK.Window, "rounds in the window")];
            for (int i = 0; i < window.Length; i++)
            {
                long round = r.ReadInt64();
                double publish = r.ReadDouble();
                bool late = r.ReadBoolean();
                var times = new double[CheckpointParts.Count(r, n, "response times")];
                for (int j = 0; j < times.Length; j++)
                {
                    times[j] = r.ReadDouble();
                }

                var variance = ReadOptional(r);
                var squaredMean = ReadOptional(r);
                int keptCount = r.ReadInt32();
                if (keptCount < -1 || keptCount > n)
                {
                    throw new InvalidDataException($"{keptCount} kept flags for N = {n}");
                }

                var kept = keptCount < 0 ? null : new bool[keptCount];
                for (int j = 0; j < keptCount; j++)
                {
                    kept![j] = r.ReadBoolean();
                }

                window[i] = new KObservation(round, publish, times, variance, squaredMean, late, kept);
            }

            var pending = ReadPairs(r, n * (AdaptiveK.Window + 1), "pending late times");
            var published = ReadPairs(r, AdaptiveK.Window + 1, "publish times");
            return new AutoKState(now, window, pending, published);
        });
        try
        {
            server.CheckAutoK(state);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(e.Message);
        }

        return () => server.RestoreAutoK(state);
    }

    private static void WriteOptional(BinaryWriter w, double? value)
    {
        w.Write(value.HasValue);
        w.Write(value ?? 0);
    }

    private static double? ReadOptional(BinaryReader r)
    {
        bool has = r.ReadBoolean();
        double value = r.ReadDouble();
        return has ? value : null;
    }

    private static void WritePairs(BinaryWriter w, IReadOnlyList<(long Round, double Time)> pairs)
    {
        w.Write(pairs.Count);
        foreach (var (round, time) in pairs)
        {
            w.Write(round);
            w.Write(time);
        }
    }

    private static (long Round, double Time)[] ReadPairs(BinaryReader r, int maximum, string what)
    {
        var pairs = new (long, double)[CheckpointParts.Count(r, maximum, what)];
        for (int i = 0; i < pairs.Length; i++)
        {
            pairs[i] = (r.ReadInt64(), r.ReadDouble());
        }

        return pairs;
    }
}

/// <summary>dstar's per-worker reputation: rounds ended, and each worker's score and exclusion end.</summary>
internal sealed class ReputationPart(WorkerReputation reputation) : ICheckpointPart
{
    public CheckpointSectionKind Kind => CheckpointSectionKind.Reputation;

    public string Description => "the dstar rule's worker reputation";

    public byte[] Save()
    {
        var state = reputation.Capture();
        return CheckpointParts.Encode(w =>
        {
            w.Write(state.Round);
            w.Write(state.Scores.Length);
            for (int i = 0; i < state.Scores.Length; i++)
            {
                w.Write(state.Scores[i]);
                w.Write(state.ExcludedUntil[i]);
            }
        });
    }

    public Action Load(ReadOnlySpan<byte> payload)
    {
        var state = CheckpointParts.Decode(payload, r =>
        {
            long round = r.ReadInt64();
            int count = CheckpointParts.Count(r, 1 << 24, "workers");
            var scores = new double[count];
            var until = new int[count];
            for (int i = 0; i < count; i++)
            {
                scores[i] = r.ReadDouble();
                until[i] = r.ReadInt32();
            }

            return new ReputationState(round, scores, until);
        });

        // Checked now on a scratch copy, so that nothing changes unless every part loads.
        try
        {
            new WorkerReputation(reputation.Decay, reputation.Threshold, reputation.Probation).Restore(state);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(e.Message);
        }

        return () => reputation.Restore(state);
    }
}

/// <summary>The simulated workers' momenta: per worker, none yet or d floats.</summary>
internal sealed class WorkerMomentumPart(SimulatedTransport transport, ParameterServer server) : ICheckpointPart
{
    public CheckpointSectionKind Kind => CheckpointSectionKind.WorkerMomentum;

    public string Description => "the simulated workers' momenta (worker_momentum)";

    public byte[] Save()
    {
        var momenta = transport.CaptureMomentum(server.Version)!;
        return CheckpointParts.Encode(w =>
        {
            w.Write(momenta.Length);
            w.Write(server.Parameters.Length);
            foreach (var m in momenta)
            {
                w.Write(m is not null);
                foreach (var v in m ?? [])
                {
                    w.Write(v);
                }
            }
        });
    }

    public Action Load(ReadOnlySpan<byte> payload)
    {
        int n = transport.WorkerCount, d = server.Parameters.Length;
        var momenta = CheckpointParts.Decode(payload, r =>
        {
            int workers = r.ReadInt32();
            int dimension = r.ReadInt32();
            if (workers != n || dimension != d)
            {
                throw new InvalidDataException($"momenta for {workers} workers of dimension {dimension}, this run has N = {n} and d = {d}");
            }

            var values = new float[]?[n];
            for (int w = 0; w < n; w++)
            {
                if (r.ReadBoolean())
                {
                    var m = new float[d];
                    for (int i = 0; i < d; i++)
                    {
                        m[i] = r.ReadSingle();
                    }

                    values[w] = m;
                }
            }

            return values;
        });
        return () => transport.Momentum!.Restore(momenta);
    }
}

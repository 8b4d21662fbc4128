using System.Globalization;

namespace Dstar.Core.Stragglers;

/// <summary>
/// Response times replayed from a recorded trace: a CSV file with one line per round and one column per worker
/// (round r reads line r, counting from 0 over the data lines). Blank lines and lines starting with '#' are skipped;
/// with <c>header=true</c> the first remaining line is a header and skipped too. A value is a time ≥ 0, or
/// <c>inf</c> / <c>infinity</c> for "never answers". Every data line must have the same number of columns.
/// Spec: <c>trace file=PATH [after-end=error|wrap] [header=false]</c>. Past the last line, <c>error</c> (default)
/// throws, so a run never silently reuses times; <c>wrap</c> replays from line 0 (round r reads line r mod rounds).
/// </summary>
/// <remarks>
/// The host reads the file (an <see cref="Specs.ISpecFiles"/> given to the registry; Dstar.Core reads no files) once,
/// when the model is built. Draws nothing from the random source.
/// </remarks>
public sealed class Trace : IDelayModel
{
    private readonly double[][] _times;

    /// <summary>Creates the model from in-memory times (<paramref name="times"/>[round][worker]).</summary>
    /// <exception cref="ArgumentException">no rounds, rows of different lengths, or a time that is NaN or negative.</exception>
    public Trace(IReadOnlyList<double[]> times, bool wrap = false, string source = "(memory)")
    {
        ArgumentNullException.ThrowIfNull(times);
        Source = source;
        if (times.Count == 0 || times[0].Length == 0)
        {
            throw new ArgumentException($"trace {source}: holds no times");
        }

        _times = new double[times.Count][];
        for (int r = 0; r < times.Count; r++)
        {
            if (times[r].Length != times[0].Length)
            {
                throw new ArgumentException($"trace {source}: round {r} has {times[r].Length} workers, round 0 has {times[0].Length}");
            }

            foreach (var t in times[r])
            {
                if (double.IsNaN(t) || t < 0)
                {
                    throw new ArgumentException($"trace {source}: round {r} holds time {t}, expected a time ≥ 0 or +∞");
                }
            }

            _times[r] = (double[])times[r].Clone();
        }

        Wrap = wrap;
    }

    /// <summary>Where the times came from (the file path), for messages.</summary>
    public string Source { get; }

    /// <summary>Rounds in the trace.</summary>
    public int Rounds => _times.Length;

    /// <summary>Workers (columns) in the trace.</summary>
    public int Workers => _times[0].Length;

    /// <summary>True to replay from the start past the last round, false to throw.</summary>
    public bool Wrap { get; }

    /// <inheritdoc />
    public string Name => "trace";

    /// <summary>Parses the lines of a trace file; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="ArgumentException">a malformed value or line (the message gives the line and column), or no data.</exception>
    public static Trace Parse(IEnumerable<string> lines, string source, bool wrap = false, bool header = false)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var rows = new List<double[]>();
        int lineNumber = 0;
        bool headerPending = header;
        foreach (var raw in lines)
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (headerPending)
            {
                headerPending = false;
                continue;
            }

            var fields = line.Split(',');
            if (rows.Count > 0 && fields.Length != rows[0].Length)
            {
                throw new ArgumentException($"trace {source}: line {lineNumber} has {fields.Length} columns, the first data line has {rows[0].Length}");
            }

            var row = new double[fields.Length];
            for (int c = 0; c < fields.Length; c++)
            {
                row[c] = ParseTime(fields[c].Trim(), source, lineNumber, c + 1);
            }

            rows.Add(row);
        }

        if (rows.Count == 0)
        {
            throw new ArgumentException($"trace {source}: holds no data lines");
        }

        return new Trace(rows, wrap, source);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">worker or round negative, the worker has no column, or the round is past the end without wrap.</exception>
    public double Sample(int worker, int round, Random random)
    {
        DelayChecks.Sample(Name, worker, round, random);
        if (worker >= Workers)
        {
            throw new ArgumentOutOfRangeException(nameof(worker), worker, $"trace {Source} has {Workers} worker columns; worker {worker} has none");
        }

        if (round >= Rounds && !Wrap)
        {
            throw new ArgumentOutOfRangeException(nameof(round), round, $"trace {Source} holds {Rounds} rounds; round {round} is past its end (after-end=wrap replays it)");
        }

        return _times[round % Rounds][worker];
    }

    private static double ParseTime(string field, string source, int line, int column)
    {
        var lowered = field.ToLowerInvariant();
        if (lowered is "inf" or "+inf" or "infinity" or "+infinity")
        {
            return double.PositiveInfinity;
        }

        if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0)
        {
            throw new ArgumentException($"trace {source}: line {line}, column {column}: '{field}' is not a time (expected a number ≥ 0 or inf)");
        }

        return value;
    }
}

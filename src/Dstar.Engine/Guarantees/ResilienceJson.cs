using System.Text.Json;
using Dstar.Engine.Recording;

namespace Dstar.Engine.Guarantees;

/// <summary>Resilience results as JSON: <c>{"results": [...]}</c>, one object per cell (docs/guarantees.md lists the fields).</summary>
public static class ResilienceJson
{
    /// <summary>Writes <paramref name="results"/> to <paramref name="path"/> (indented UTF-8).</summary>
    public static void Write(string path, IEnumerable<ResilienceResult> results, double? wallSeconds = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        Directory.CreateDirectory(directory!);
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        if (wallSeconds is { } seconds)
        {
            w.WriteNumber("wall_seconds", Math.Round(seconds, 2));
        }

        w.WriteStartArray("results");
        foreach (var r in results)
        {
            Write(w, r);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Reads the results a <see cref="Write(string, IEnumerable{ResilienceResult}, double?)"/> file holds (to redraw a study's plots).</summary>
    /// <exception cref="InvalidDataException">the file is not such a results file.</exception>
    public static IReadOnlyList<ResilienceResult> Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.GetProperty("results").EnumerateArray().Select(Read).ToArray();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path} is not a resilience results file: {e.Message}");
        }
    }

    private static ResilienceResult Read(JsonElement e)
    {
        ResilienceReport? report = null;
        if (e.TryGetProperty("ratio", out _))
        {
            report = new ResilienceReport(
                e.GetProperty("draws").GetInt32(),
                e.GetProperty("confidence").GetDouble(),
                Double(e, "gradient_norm"),
                Double(e, "noise_ratio"),
                Interval(e.GetProperty("ratio")),
                e.GetProperty("moments").EnumerateArray().Select(m => new MomentComparison(m.GetProperty("order").GetInt32(), Interval(m.GetProperty("aggregate")), Double(m, "honest"))).ToArray(),
                Double(e, "bias"),
                Interval(e.GetProperty("debiased_bias")),
                Double(e, "bias_resolution"),
                Double(e, "variance"),
                e.TryGetProperty("variance_ratio", out var v) ? Interval(v) : null);
        }

        return new ResilienceResult(
            e.GetProperty("rule").GetString()!, e.GetProperty("attack").GetString()!, e.GetProperty("byzantine").GetInt32(), e.GetProperty("k").GetInt32(),
            e.GetProperty("attack_timing").GetString()!, e.GetProperty("partition").GetString()!, e.GetProperty("point").GetString()!, report,
            e.TryGetProperty("failure", out var f) ? f.GetString() : null, e.GetProperty("seconds").GetDouble());
    }

    private static double Double(JsonElement e, string name) =>
        e.GetProperty(name).ValueKind == JsonValueKind.Number ? e.GetProperty(name).GetDouble() : double.NaN;

    private static Interval Interval(JsonElement e) => new(Double(e, "estimate"), Double(e, "low"), Double(e, "high"));

    /// <summary>Writes one result as the object a results file holds for it (a study report copies these objects).</summary>
    public static void Write(Utf8JsonWriter w, ResilienceResult r)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(r);
        w.WriteStartObject();
        w.WriteString("rule", r.Rule);
        w.WriteString("attack", r.Attack);
        w.WriteNumber("byzantine", r.Byzantine);
        w.WriteNumber("k", r.K);
        w.WriteString("attack_timing", r.Timing);
        w.WriteString("partition", r.Partition);
        w.WriteString("point", r.Point);
        w.WriteNumber("seconds", Math.Round(r.Seconds, 3));
        if (r.Failure is not null)
        {
            w.WriteString("failure", r.Failure);
        }

        if (r.Report is { } report)
        {
            w.WriteNumber("draws", report.Draws);
            w.WriteNumber("confidence", report.Confidence);
            w.WriteNumberOrNull("gradient_norm", report.GradientNorm);
            w.WriteNumberOrNull("noise_ratio", report.NoiseRatio);
            Interval(w, "ratio", report.Ratio);
            w.WriteBoolean("holds", report.Holds);
            w.WriteNumberOrNull("alpha_degrees", report.AlphaDegrees);
            w.WriteNumberOrNull("alpha_upper_degrees", report.AlphaUpperDegrees);
            w.WriteNumberOrNull("implied_eta", report.ImpliedEta);
            w.WriteNumberOrNull("ball_alpha_degrees", report.BallAlphaDegrees);
            w.WriteStartArray("moments");
            foreach (var m in report.Moments)
            {
                w.WriteStartObject();
                w.WriteNumber("order", m.Order);
                Interval(w, "aggregate", m.Aggregate);
                w.WriteNumberOrNull("honest", m.Honest);
                w.WriteNumberOrNull("ratio", m.Ratio);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumberOrNull("bias", report.Bias);
            Interval(w, "debiased_bias", report.DebiasedBias);
            w.WriteNumberOrNull("bias_resolution", report.BiasResolution);
            w.WriteNumberOrNull("variance", report.Variance);
            if (report.VarianceRatio is { } ratio)
            {
                Interval(w, "variance_ratio", ratio);
            }
        }

        w.WriteEndObject();
    }

    private static void Interval(Utf8JsonWriter w, string name, Interval interval)
    {
        w.WriteStartObject(name);
        w.WriteNumberOrNull("estimate", interval.Estimate);
        w.WriteNumberOrNull("low", interval.Low);
        w.WriteNumberOrNull("high", interval.High);
        w.WriteEndObject();
    }
}

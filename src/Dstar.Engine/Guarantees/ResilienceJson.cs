using System.Text.Json;

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

    private static void Write(Utf8JsonWriter w, ResilienceResult r)
    {
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
            Number(w, "gradient_norm", report.GradientNorm);
            Number(w, "noise_ratio", report.NoiseRatio);
            Interval(w, "ratio", report.Ratio);
            w.WriteBoolean("holds", report.Holds);
            Number(w, "alpha_degrees", report.AlphaDegrees);
            Number(w, "alpha_upper_degrees", report.AlphaUpperDegrees);
            Number(w, "implied_eta", report.ImpliedEta);
            Number(w, "ball_alpha_degrees", report.BallAlphaDegrees);
            w.WriteStartArray("moments");
            foreach (var m in report.Moments)
            {
                w.WriteStartObject();
                w.WriteNumber("order", m.Order);
                Interval(w, "aggregate", m.Aggregate);
                Number(w, "honest", m.Honest);
                Number(w, "ratio", m.Ratio);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            Number(w, "bias", report.Bias);
            Interval(w, "debiased_bias", report.DebiasedBias);
            Number(w, "bias_resolution", report.BiasResolution);
            Number(w, "variance", report.Variance);
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
        Number(w, "estimate", interval.Estimate);
        Number(w, "low", interval.Low);
        Number(w, "high", interval.High);
        w.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}

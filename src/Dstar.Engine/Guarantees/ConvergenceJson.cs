using System.Text.Json;
using Dstar.Engine.Recording;

namespace Dstar.Engine.Guarantees;

/// <summary>A convergence study as JSON: the Hessian's eigenvalues at θ*, and per rule and attack the fit and the curve.</summary>
public static class ConvergenceJson
{
    /// <summary>Writes the study's results to <paramref name="path"/>.</summary>
    public static void Write(string path, ConvergenceStudy study, IReadOnlyList<ConvergenceResult> results, IReadOnlyList<double> eigenvalues, double wallSeconds)
    {
        ArgumentNullException.ThrowIfNull(study);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("data", study.Base.Data.Name);
        w.WriteNumber("learning_rate", study.Base.LearningRate);
        w.WriteNumber("byzantine", study.Byzantine);
        w.WriteNumber("wall_seconds", Math.Round(wallSeconds, 2));
        w.WriteStartArray("hessian_eigenvalues");
        foreach (var l in eigenvalues)
        {
            w.WriteNumberValue(l);
        }

        w.WriteEndArray();
        w.WriteStartArray("results");
        foreach (var r in results)
        {
            w.WriteStartObject();
            w.WriteString("rule", r.Rule);
            w.WriteString("attack", r.Attack);
            w.WriteNumberOrNull("fitted_rate", r.Fit.Rate);
            w.WriteNumberOrNull("tail_rate", r.Fit.TailRate);
            w.WriteNumber("phase_start", r.Fit.PhaseStart);
            w.WriteNumber("phase_end", r.Fit.PhaseEnd);
            w.WriteNumberOrNull("floor", r.Fit.Floor);
            w.WriteNumberOrNull("flattens_at", r.Fit.FlattensAt);
            w.WriteNumberOrNull("diverges_at", r.Fit.DivergesAt);
            w.WriteNumberOrNull("theoretical_rate_mean", r.TheoreticalRate);
            w.WriteNumberOrNull("ratio_at_x0", r.Ratio);
            w.WriteNumberOrNull("ratio_rate", r.RatioRate);
            if (r.StopReason is not null)
            {
                w.WriteString("stop_reason", r.StopReason);
            }

            w.WriteStartArray("distances");
            foreach (var d in r.Distances)
            {
                if (double.IsFinite(d))
                {
                    w.WriteNumberValue(d);
                }
                else
                {
                    w.WriteNullValue();
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}

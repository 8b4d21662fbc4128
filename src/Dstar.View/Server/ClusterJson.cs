using System.Globalization;
using System.Text.Json;
using Dstar.View.Board;

namespace Dstar.View.Server;

/// <summary>The cluster's JSON: <c>GET /api/cluster</c> and the event stream's <c>cluster</c> event (docs/view.md).</summary>
public static class ClusterJson
{
    /// <summary><c>GET /api/cluster</c>.</summary>
    public static byte[] Cluster(ClusterView cluster) => ViewJson.Write(w => Write(w, cluster.Snapshot()));

    /// <summary>Every worker's connection, refusal counts by reason, and the latest refusals.</summary>
    public static void Write(Utf8JsonWriter w, ClusterSnapshot s)
    {
        w.WriteStartObject();
        w.WriteString("now", Time(s.Now));
        w.WriteNumber("connected", s.Workers.Count(x => x.State == "connected"));
        w.WriteStartArray("workers");
        foreach (var x in s.Workers)
        {
            w.WriteStartObject();
            w.WriteNumber("worker", x.Worker);
            w.WriteString("state", x.State);
            w.WriteString("peer", x.Peer);
            w.WriteString("since", x.Since is { } since ? Time(since) : null);
            w.WriteString("last_seen", x.LastSeen is { } seen ? Time(seen) : null);
            if (x.LastSeen is { } last)
            {
                w.WriteNumber("seconds_since_seen", Math.Max(0, (s.Now - last).TotalSeconds));
            }
            else
            {
                w.WriteNull("seconds_since_seen");
            }

            w.WriteNumber("joins", x.Joins);
            w.WriteNumber("gradients", x.Gradients);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        Counts(w, "join_refusals", s.JoinRefusals);
        Counts(w, "gradient_refusals", s.GradientRefusals);
        w.WriteStartArray("recent_refusals");
        foreach (var r in s.Recent)
        {
            w.WriteStartObject();
            w.WriteString("time", Time(r.Time));
            w.WriteString("kind", r.Kind == ClusterRefusalKind.Join ? "join" : "gradient");
            w.WriteString("reason", r.Reason);
            if (r.Worker is { } worker)
            {
                w.WriteNumber("worker", worker);
            }
            else
            {
                w.WriteNull("worker");
            }

            w.WriteString("peer", r.Peer);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Counts(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, long> counts)
    {
        w.WriteStartObject(name);
        foreach (var (reason, count) in counts)
        {
            w.WriteNumber(reason, count);
        }

        w.WriteEndObject();
    }

    private static string Time(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}

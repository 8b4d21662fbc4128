using System.Text.Json;
using Dstar.Core;

namespace Dstar.Cli.Output;

/// <summary>
/// The JSON report of <c>dstar aggregate</c>: <c>rule</c>, <c>pre</c>, <c>n</c>, <c>d</c>, <c>f</c>, <c>rows</c>
/// (rows the rule saw after pre-aggregation), <c>kept</c>, <c>weights</c> (or null), <c>scores</c> (or null),
/// <c>non_finite</c> and <c>seconds</c>.
/// </summary>
public static class AggregationReportJson
{
    /// <summary>Everything the report states about one aggregation.</summary>
    /// <param name="Rule">The rule spec in canonical form (<c>krum f=3</c>).</param>
    /// <param name="Pre">The pre-aggregator specs in canonical form, in order.</param>
    /// <param name="Rows">n, the rows of the input file.</param>
    /// <param name="Dimension">d.</param>
    /// <param name="ByzantineCount">f as given by <c>--f</c> (a spec's own f= takes precedence inside the rule).</param>
    /// <param name="RowsSeen">Rows the rule saw after the pre-aggregators (equals n without them).</param>
    /// <param name="Report">The rule's report; its indices refer to the rows the rule saw.</param>
    /// <param name="Seconds">Wall time of the pre-aggregators and the rule.</param>
    public sealed record Contents(
        string Rule,
        IReadOnlyList<string> Pre,
        int Rows,
        int Dimension,
        int ByzantineCount,
        int RowsSeen,
        AggregationReport Report,
        double Seconds);

    /// <summary>Serialises <paramref name="contents"/> as indented JSON (non-finite weights or scores become null).</summary>
    public static string Serialize(Contents contents)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("rule", contents.Rule);
            json.WriteStartArray("pre");
            foreach (var pre in contents.Pre)
            {
                json.WriteStringValue(pre);
            }

            json.WriteEndArray();
            json.WriteNumber("n", contents.Rows);
            json.WriteNumber("d", contents.Dimension);
            json.WriteNumber("f", contents.ByzantineCount);
            json.WriteNumber("rows", contents.RowsSeen);
            WriteIntegers(json, "kept", contents.Report.Kept);
            WriteNumbers(json, "weights", contents.Report.Weights);
            WriteNumbers(json, "scores", contents.Report.Scores);
            WriteIntegers(json, "non_finite", contents.Report.NonFiniteRows);
            json.WriteNumber("seconds", contents.Seconds);
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteIntegers(Utf8JsonWriter json, string name, IReadOnlyList<int> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            json.WriteNumberValue(v);
        }

        json.WriteEndArray();
    }

    private static void WriteNumbers(Utf8JsonWriter json, string name, IReadOnlyList<double>? values)
    {
        if (values is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartArray(name);
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                json.WriteNumberValue(v);
            }
            else
            {
                json.WriteNullValue();
            }
        }

        json.WriteEndArray();
    }
}

using System.Text;
using Dstar.Engine.Recording;
using Dstar.View.Server;

namespace Dstar.View.Tests.Server;

public class ViewJsonTests
{
    [Fact]
    public void Round_json_is_byte_for_byte_the_metrics_jsonl_row()
    {
        using var directory = new TempDirectory();
        var records = Records.Random(60, workers: 7, seed: 21);
        Records.WriteRunDirectory(directory.Path, records, finished: false);
        var lines = File.ReadAllLines(directory.Combine(MetricsFiles.JsonLinesName));
        Assert.Equal(records.Count, lines.Length);
        for (int i = 0; i < records.Count; i++)
        {
            var json = Encoding.UTF8.GetString(ViewJson.Write(w => ViewJson.Round(w, records[i])));
            Assert.Equal(lines[i], json);
        }
    }
}

public class RoundPhasesJsonTests
{
    [Fact]
    public void Round_with_phases_is_the_metrics_row_plus_one_phases_member()
    {
        using var directory = new TempDirectory();
        var records = Records.Random(20, workers: 6, seed: 22);
        Records.WriteRunDirectory(directory.Path, records, finished: false);
        var lines = File.ReadAllLines(directory.Combine(MetricsFiles.JsonLinesName));
        var random = new Random(3);
        for (int i = 0; i < records.Count; i++)
        {
            var seconds = new[] { random.NextDouble(), double.NaN, random.NextDouble() * 1e-6 };
            var json = Encoding.UTF8.GetString(ViewJson.Write(w => ViewJson.Round(w, records[i], new Dstar.View.Board.RoundPhases(["a", "b_c", "d"], seconds))));
            using var spliced = System.Text.Json.JsonDocument.Parse(json);
            using var row = System.Text.Json.JsonDocument.Parse(lines[i]);
            var members = spliced.RootElement.EnumerateObject().ToArray();
            Assert.Equal(row.RootElement.EnumerateObject().Select(p => p.Name).Append("phases"), members.Select(p => p.Name));
            foreach (var p in row.RootElement.EnumerateObject())
            {
                Assert.Equal(p.Value.GetRawText(), spliced.RootElement.GetProperty(p.Name).GetRawText());
            }

            var phases = spliced.RootElement.GetProperty("phases");
            Assert.Equal(seconds[0], phases.GetProperty("a").GetDouble());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, phases.GetProperty("b_c").ValueKind);
            Assert.Equal(seconds[2], phases.GetProperty("d").GetDouble());
        }
    }
}

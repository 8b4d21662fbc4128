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

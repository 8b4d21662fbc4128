using System.Text.Json;
using Dstar.Cli.Commands;
using Xunit;

namespace Dstar.Cli.Tests;

public class DemoCommandTests
{
    [Fact]
    [Trait("Category", "EndToEnd")]
    public void Demo_dstar_beats_plain_averaging_and_first_k_rounds_are_shorter_than_waiting_for_all()
    {
        var directory = Path.Combine(Path.GetTempPath(), "dstar-demo-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int exit = DemoCommand.Run(json: true, directory, ["rounds=60", "eval_every=20"], output, error);
            Assert.True(exit == 0, error.ToString());

            var runs = JsonDocument.Parse(output.ToString()).RootElement.GetProperty("runs").EnumerateArray()
                .ToDictionary(r => r.GetProperty("name").GetString()!, r => r);
            var mean = runs["mean (waits for all 20)"];
            var dstar = runs["dstar (first 15)"];

            // IPM with ε = 100 breaks plain averaging; dSTAR drops every Byzantine gradient and learns.
            Assert.True(dstar.GetProperty("final_accuracy").GetDouble() > mean.GetProperty("final_accuracy").GetDouble() + 0.3);
            Assert.Equal(0, dstar.GetProperty("byzantine_kept").GetInt32());
            Assert.True(mean.GetProperty("byzantine_kept").GetInt32() > 0);

            // Under heavy-tailed delays, the k-th of 20 answers comes far sooner than the last.
            Assert.True(dstar.GetProperty("mean_round_virtual_seconds").GetDouble() < mean.GetProperty("mean_round_virtual_seconds").GetDouble());
            Assert.True(File.Exists(Path.Combine(directory, "accuracy_by_time.png")));
            Assert.True(File.Exists(Path.Combine(directory, "dstar", "summary.json")));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}

using Dstar.Engine.Recording;
using Xunit;

namespace Dstar.Engine.Tests.Recording;

public class AtomicFileTests
{
    [Fact]
    public void A_write_replaces_the_file_whole_and_leaves_no_temporary_behind()
    {
        var path = Path.Combine(Scenarios.TemporaryDirectory(), "summary.json");
        File.WriteAllText(path, "{\"old\": true}\n");

        AtomicFile.WriteAllText(path, "{\"new\": true}\n");
        AtomicFile.WriteAllBytes(path + "2", [1, 2, 3]);

        Assert.Equal("{\"new\": true}\n", File.ReadAllText(path));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path + "2"));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void A_write_that_fails_leaves_the_previous_file_as_it_was()
    {
        // A directory where the temporary file goes makes the write fail, as a full disk would, after the old file was
        // there: a direct File.WriteAllText(path) would have truncated it first.
        var directory = Scenarios.TemporaryDirectory();
        var path = Path.Combine(directory, SummaryFile.FileName);
        File.WriteAllText(path, "{\"rounds\": 7}\n");
        Directory.CreateDirectory(path + ".tmp");

        Assert.ThrowsAny<Exception>(() => AtomicFile.WriteAllText(path, "{\"rounds\": 8}\n"));

        Assert.Equal("{\"rounds\": 7}\n", File.ReadAllText(path));
    }

    [Fact]
    public void The_summary_sink_writes_through_it()
    {
        var directory = Scenarios.TemporaryDirectory();
        var sink = new SummaryFile(directory);
        File.WriteAllText(sink.Path, "whole\n");
        Directory.CreateDirectory(sink.Path + ".tmp");

        Assert.ThrowsAny<Exception>(() => sink.Finish(new RunSummary("r", 0.5, 0.5, 1.0, 8, 8, 1, 1, null, null, null, 0, 0, new Dictionary<string, long>())));

        Assert.Equal("whole\n", File.ReadAllText(sink.Path));
    }
}

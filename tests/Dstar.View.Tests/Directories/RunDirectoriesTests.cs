using Dstar.Engine.Recording;
using Dstar.View.Board;
using Dstar.View.Directories;

namespace Dstar.View.Tests.Directories;

public class RunDirectoriesTests
{
    private const string Config = "workers: 8\nbyzantine: 2\nrounds: 40\nk: 5\n";

    [Fact]
    public void Folder_of_runs_shows_every_run_with_its_state()
    {
        using var study = new TempDirectory();
        var records = Records.Random(40, workers: 8, seed: 12);
        Records.WriteRunDirectory(study.Combine("cells", "a-finished"), records, finished: true, Config);
        Records.WriteRunDirectory(study.Combine("cells", "b-incomplete"), records[..15], finished: false, Config);
        // A row half-written by a process that is still running (or was killed) is left for later.
        File.AppendAllText(study.Combine("cells", "b-incomplete", MetricsFiles.JsonLinesName), "{\"round\":15,\"virtual_ti");
        Directory.CreateDirectory(study.Combine("cells", "c-waiting"));
        File.WriteAllText(study.Combine("cells", "c-waiting", "config.yaml"), Config);
        Records.WriteRunDirectory(study.Combine("cells", "d-damaged"), records[..5], finished: false, Config);
        var damaged = study.Combine("cells", "d-damaged", MetricsFiles.JsonLinesName);
        var lines = File.ReadAllLines(damaged);
        lines[2] = "not json";
        File.WriteAllLines(damaged, lines);
        Records.WriteRunDirectory(study.Combine("cells", "e-no-config"), records[..7], finished: true);
        File.WriteAllText(study.Combine("report.html"), "<html></html>");
        Directory.CreateDirectory(study.Combine("empty"));

        var board = new ViewBoard();
        var runs = new RunDirectories(study.Path, board);

        var snapshots = board.Runs.Select(r => r.Snapshot()).ToArray();
        Assert.Equal(5, runs.Count);
        Assert.Equal(["cells/a-finished", "cells/b-incomplete", "cells/c-waiting", "cells/d-damaged", "cells/e-no-config"], snapshots.Select(s => s.Name));
        Assert.Equal([RunState.Finished, RunState.Incomplete, RunState.Waiting, RunState.Failed, RunState.Finished], snapshots.Select(s => s.State));
        Assert.Equal([40, 15, 0, 0, 7], snapshots.Select(s => s.RoundCount));
        Assert.Equal([6, 7], snapshots[0].Info!.Byzantine);
        Assert.Equal(40, snapshots[0].Info!.Rounds);
        Assert.Equal(0.9, snapshots[0].Summary!.FinalAccuracy);
        Assert.Contains("line 3", snapshots[3].Problem);
        Assert.Empty(snapshots[4].Info!.Byzantine);
        Assert.Equal(records[..7].Max(r => r.Accepted.Concat(r.Kept).Concat(r.Filtered).Max()) + 1, snapshots[4].Info!.WorkerCount);
        Assert.Equal(records.Select(Json), board.Runs[0].Records().Select(Json));
    }

    private static string Json(RoundRecord r) => System.Text.Encoding.UTF8.GetString(Dstar.View.Server.ViewJson.Write(w => Dstar.View.Server.ViewJson.Round(w, r)));

    [Fact]
    public void Refresh_adds_new_rows_and_new_run_directories()
    {
        using var study = new TempDirectory();
        var records = Records.Random(30, workers: 8, seed: 13);
        Records.WriteRunDirectory(study.Combine("a"), records[..10], finished: false, Config);
        var board = new ViewBoard();
        var runs = new RunDirectories(study.Path, board);
        Assert.Equal(10, board.Runs[0].Snapshot().RoundCount);

        Records.WriteRunDirectory(study.Combine("a"), records, finished: true, Config);
        Records.WriteRunDirectory(study.Combine("b"), records[..3], finished: false, Config);
        runs.Refresh();

        Assert.Equal(2, board.Runs.Count);
        Assert.Equal((30, RunState.Finished), (board.Runs[0].Snapshot().RoundCount, board.Runs[0].Snapshot().State));
        Assert.Equal((3, RunState.Incomplete), (board.Runs[1].Snapshot().RoundCount, board.Runs[1].Snapshot().State));
    }

    [Fact]
    public void Single_run_directory_is_one_run_named_after_it()
    {
        using var root = new TempDirectory();
        Records.WriteRunDirectory(root.Combine("my-run"), Records.Random(4, 8, 1), finished: true, Config);
        var board = new ViewBoard();
        _ = new RunDirectories(root.Combine("my-run"), board);
        Assert.Equal("my-run", Assert.Single(board.Runs).Name);
    }

    [Fact]
    public void Missing_or_empty_directory_is_refused_with_its_name()
    {
        using var root = new TempDirectory();
        var missing = Assert.Throws<ArgumentException>(() => new RunDirectories(root.Combine("nope"), new ViewBoard()));
        Assert.Contains("nope': no such directory", missing.Message);
        var empty = Assert.Throws<ArgumentException>(() => new RunDirectories(root.Path, new ViewBoard()));
        Assert.Contains("holds no run directory", empty.Message);
    }
}

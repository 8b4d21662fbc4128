using Dstar.Engine.Recording;
using Dstar.Studies.Definition;
using Dstar.Studies.Report;
using Dstar.View.Board;
using Dstar.View.Directories;

namespace Dstar.View.Tests.Board;

public class StudyViewTests
{
    // 2 rules × 2 attacks = 4 cells, 3 seeds each; nothing is run: the tests write the run directories themselves.
    private const string StudyYaml = """
        name: tiny
        base:
          rounds: 20
          data: {name: synthetic-logistic, samples: 400, features: 5, validation_size: 50}
          model: logreg
          workers: 8
          k: 6
        grid:
          aggregator: [median, dstar]
        cases:
          - {byzantine: 0, attack: none}
          - {byzantine: 2, attack: sign-flip}
        seeds: [1, 2, 3]
        """;

    private static StudyIndex Plan() => PlanFile.Index(StudyPlan.Expand(StudyLoader.Load(StudyYaml, "tiny", ".")));

    [Fact]
    public void Study_directory_shows_every_cell_with_its_runs_states_and_mean_accuracy()
    {
        using var root = new TempDirectory();
        var plan = Plan();
        Assert.Equal(4, plan.Cells.Count);
        var cell0 = plan.Cells[0];
        var cell1 = plan.Cells[1];
        var cell2 = plan.Cells[2];

        // Cell 0: three finished seeds with different accuracies. Cell 1: one finished, one failed (error.txt), one
        // never started. Cell 2: one interrupted (rows, no summary). Cell 3: nothing.
        var accuracies = new[] { 0.61, 0.7, 0.85 };
        for (int i = 0; i < 3; i++)
        {
            WriteFinished(root.Combine(cell0.RunDirectory(cell0.Seeds[i])), accuracies[i]);
        }

        WriteFinished(root.Combine(cell1.RunDirectory(1)), 0.5);
        Directory.CreateDirectory(root.Combine(cell1.RunDirectory(2)));
        File.WriteAllText(root.Combine(cell1.RunDirectory(2), "error.txt"), "the worker process 123 exited with code 137 during this run\nmore\n");
        Records.WriteRunDirectory(root.Combine(cell2.RunDirectory(3)), Records.Random(7, 8, 3), finished: false);
        PlanFile.Write(StudyPlan.Expand(StudyLoader.Load(StudyYaml, "tiny", ".")), root.Path);

        var board = new ViewBoard();
        Assert.True(StudyDirectory.IsStudy(root.Path));
        var study = StudyDirectory.Show(root.Path, board);
        var s = study.Snapshot();

        Assert.Equal("incomplete", s.State);
        Assert.Equal(12, board.Runs.Count);
        Assert.Equal(plan.Cells.SelectMany(c => c.Seeds.Select(seed => $"{c.Name}/seed-{seed}")), board.Runs.Select(r => r.Name));
        Assert.Equal((4, 1, 1, 6), (s.Finished, s.Failed, s.Incomplete, s.Pending));
        Assert.Equal([StudyRunState.Finished, StudyRunState.Failed, StudyRunState.Incomplete, StudyRunState.Pending], s.Cells.Select(c => c.State));

        // The cell's result is the mean and sample std of its finished seeds' summary.json final accuracy.
        double mean = accuracies.Average();
        double std = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / 2);
        Assert.Equal(mean, s.Cells[0].FinalAccuracy.Mean!.Value, 12);
        Assert.Equal(std, s.Cells[0].FinalAccuracy.Std!.Value, 12);
        Assert.Equal(0.5, s.Cells[1].FinalAccuracy.Mean);
        Assert.Null(s.Cells[3].FinalAccuracy.Mean);
        Assert.Equal("the worker process 123 exited with code 137 during this run", s.Cells[1].Seeds[1].Error);
        Assert.Equal(RunState.Failed, board.Runs[s.Cells[1].Seeds[1].Run].Snapshot().State);
        Assert.Equal(7, board.Runs[s.Cells[2].Seeds[2].Run].Snapshot().RoundCount);
        Assert.Null(s.Report);
    }

    [Fact]
    public void Sweep_events_move_runs_through_running_finished_and_failed_and_tell_the_listeners_which_cell()
    {
        using var root = new TempDirectory();
        var plan = Plan();
        var board = new ViewBoard();
        var study = board.ShowStudy(plan, root.Path);
        study.Refresh();
        using var listener = board.Listen();
        var cell = plan.Cells[2];

        study.SweepStarted();
        study.RunStarted(cell.Name, 2);
        Assert.Equal("running", study.Snapshot().State);
        Assert.Equal(StudyRunState.Running, study.Snapshot().Cells[2].Seeds[1].State);
        Assert.Equal(StudyRunState.Running, study.Snapshot().Cells[2].State);

        // The worker process writes the run directory meanwhile; a refresh reads its rows and keeps it running.
        Records.WriteRunDirectory(root.Combine(cell.RunDirectory(2)), Records.Random(9, 8, 4), finished: false);
        study.Refresh();
        Assert.Equal(StudyRunState.Running, study.Snapshot().Cells[2].Seeds[1].State);
        Assert.Equal((9, RunState.Running), (board.Runs[study.Snapshot().Cells[2].Seeds[1].Run].Snapshot().RoundCount, board.Runs[study.Snapshot().Cells[2].Seeds[1].Run].Snapshot().State));

        WriteFinished(root.Combine(cell.RunDirectory(2)), 0.77);
        study.RunFinished(cell.Name, 2);
        var seed = study.Snapshot().Cells[2].Seeds[1];
        Assert.Equal((StudyRunState.Finished, 0.77), (seed.State, seed.FinalAccuracy));

        study.RunStarted(cell.Name, 3);
        study.RunFailed(cell.Name, 3, "boom: a rule refused its input\nstack …");
        seed = study.Snapshot().Cells[2].Seeds[2];
        Assert.Equal((StudyRunState.Failed, "boom: a rule refused its input"), (seed.State, seed.Error));
        Assert.Equal(StudyRunState.Failed, study.Snapshot().Cells[2].State);

        study.RunStarted(plan.Cells[0].Name, 1);
        study.SweepEnded(cancelled: true);
        Assert.Equal("stopped", study.Snapshot().State);
        Assert.Equal(StudyRunState.Pending, study.Snapshot().Cells[0].Seeds[0].State); // never wrote a file

        var cells = new List<int>();
        while (listener.Reader.TryRead(out var update))
        {
            if (update.Panel == ViewPanel.Study && update.Cell >= 0)
            {
                cells.Add(update.Cell);
            }
        }

        Assert.Contains(2, cells);
        Assert.Contains(0, cells);
        Assert.DoesNotContain(1, cells);
        Assert.DoesNotContain(3, cells);
    }

    [Fact]
    public void Report_appears_on_refresh_and_only_its_own_images_are_served()
    {
        using var root = new TempDirectory();
        var board = new ViewBoard();
        var study = board.ShowStudy(Plan(), root.Path);
        study.Refresh();
        Assert.Null(study.Snapshot().Report);
        Assert.Null(study.ReportImage("heatmap-f.png"));

        var report = root.Combine("report");
        Directory.CreateDirectory(Path.Combine(report, "k"));
        File.WriteAllBytes(Path.Combine(report, "heatmap-f.png"), [0x89, 0x50, 0x4e, 0x47]);
        File.WriteAllBytes(Path.Combine(report, "k", "01-time-to-target.png"), [0x89, 0x50, 0x4e, 0x47]);
        File.WriteAllText(Path.Combine(report, ReportFiles.JsonName), "{\"study\": \"tiny\", \"target_accuracy\": 0.6, \"tables\": [{\"scenario\": {}, \"attacks\": [\"a\"], \"rows\": []}], \"tuning\": []");
        study.Refresh();
        Assert.Null(study.Snapshot().Report); // not whole yet: read on a later refresh

        File.AppendAllText(Path.Combine(report, ReportFiles.JsonName), "}\n");
        study.Refresh();
        var seen = study.Snapshot().Report!;
        Assert.Equal(1, seen.Version);
        Assert.Equal(0.6, seen.TargetAccuracy!.Value.GetDouble());
        Assert.Equal(1, seen.Tables!.Value.GetArrayLength());
        Assert.Equal(["heatmap-f.png", "k/01-time-to-target.png"], seen.Images);
        Assert.Equal(Path.Combine(study.Directory, "report", "heatmap-f.png"), study.ReportImage("heatmap-f.png"));
        Assert.NotNull(study.ReportImage("k/01-time-to-target.png"));
        foreach (var other in new[] { "../plan.json", "report.json", "heatmap-x.png", "/etc/passwd", "k/../heatmap-f.png", "" })
        {
            Assert.Null(study.ReportImage(other));
        }
    }

    private static void WriteFinished(string directory, double accuracy)
    {
        Records.WriteRunDirectory(directory, Records.Random(20, 8, 1), finished: true);
        var summary = Records.Summary(Path.GetFileName(directory), 20) with { FinalAccuracy = accuracy };
        new SummaryFile(directory).Finish(summary);
    }
}

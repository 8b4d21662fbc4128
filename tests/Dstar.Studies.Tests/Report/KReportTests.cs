using Dstar.Studies.Definition;
using Dstar.Studies.Report;

namespace Dstar.Studies.Tests.Report;

public class KReportTests
{
    private static CellResult Cell(string k, string delay, double secondsToTarget, double? meanK = null)
    {
        var keys = new Dictionary<string, string> { ["k"] = k, ["delay"] = delay };
        var cell = new IndexedCell($"k-{k}_{delay}", keys, "dstar", "none", keys, null, [1]);
        var curve = new[] { new EvaluationPoint(9, secondsToTarget / 2, 0.5), new EvaluationPoint(19, secondsToTarget, 0.8) };
        return new CellResult(cell, [new RunResult(1, 0.8, 0.8, null, null, null, 2 * secondsToTarget, 40, null, curve, meanK)], [], [], 0.75);
    }

    [Fact]
    public void Table_compares_auto_with_the_best_static_k_and_with_k_equal_N_and_draws_the_figures()
    {
        var cells = new[]
        {
            Cell("5", "pareto", 80), Cell("10", "pareto", 60), Cell("20", "pareto", 600), Cell("auto", "pareto", 66, meanK: 9.5),
            Cell("5", "bimodal", 50), Cell("10", "bimodal", 40), Cell("20", "bimodal", 400), Cell("auto", "bimodal", 44, meanK: 18),
        };
        var results = StudyResults.Build(new StudyIndex("s", 0.75, ["k", "delay"], null, cells.Select(c => c.Cell).ToArray()), cells);
        var folder = Path.Combine(Path.GetTempPath(), "dstar-kreport-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (images, markdown) = KReport.Write(results, folder);
            // pareto: best static k = 10 at 60 s, auto 66 s → 1.10; k = N 600 s → 9.09× auto.
            Assert.Contains("| pareto | 80 s (20) | 60 s (20) | 600 s (20) | 66 s (20), k̄ = 9.5 | k = 10: 60 s | 1.10 | 9.09× |", markdown);
            Assert.Contains("| bimodal | 50 s (20) | 40 s (20) | 400 s (20) | 44 s (20), k̄ = 18.0 | k = 10: 40 s | 1.10 | 9.09× |", markdown);
            Assert.Equal(4, images.Count); // time and rounds against k, and one accuracy-by-time figure per delay model
            Assert.All(images, i => Assert.True(new FileInfo(i.Path).Length > 1000, i.Path));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Auto_s_mean_k_is_averaged_over_its_seeds()
    {
        var auto = Cell("auto", "pareto", 66, meanK: 9);
        var second = auto.Runs[0] with { Seed = 2, MeanK = 12 };
        auto = auto with { Runs = [auto.Runs[0], second] };
        var cells = new[] { Cell("10", "pareto", 60), Cell("20", "pareto", 600), auto };
        var results = StudyResults.Build(new StudyIndex("s", 0.75, ["k", "delay"], null, cells.Select(c => c.Cell).ToArray()), cells);
        var folder = Path.Combine(Path.GetTempPath(), "dstar-kreport-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (_, markdown) = KReport.Write(results, folder);
            Assert.Contains("k̄ = 10.5 |", markdown);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_study_that_does_not_vary_k_gets_no_k_section()
    {
        var cells = new[] { Cell("5", "pareto", 80) };
        var results = StudyResults.Build(new StudyIndex("s", 0.75, ["delay"], null, cells.Select(c => c.Cell).ToArray()), cells);
        var (images, markdown) = KReport.Write(results, Path.GetTempPath());
        Assert.Empty(images);
        Assert.Equal("", markdown);
    }
}

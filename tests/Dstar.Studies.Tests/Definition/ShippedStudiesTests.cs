using Dstar.Studies.Definition;

namespace Dstar.Studies.Tests.Definition;

public class ShippedStudiesTests
{
    public static TheoryData<string, int> Studies => new()
    {
        { "quick.yaml", 16 },
        { "robustness.yaml", 720 },
        { "robustness-cnn.yaml", 720 },
        { "byzfl-s2.yaml", 120 },
        { "stragglers.yaml", 120 },
        { "dstar-plus-s1.yaml", 180 },
        { "dstar-plus-s2.yaml", 210 },
        { "dstar-plus-s1-more.yaml", 30 },
        { "dstar-plus-s1-wm.yaml", 8 },
        { "dstar-plus-s2-wm.yaml", 60 },
        { "robustness-wire.yaml", 420 },
        { "stragglers-seeds.yaml", 120 },
        { "stragglers-cnn.yaml", 16 },
    };

    [Theory]
    [MemberData(nameof(Studies))]
    public void Shipped_study_expands_into_valid_cells(string file, int runs)
    {
        var plan = StudyPlan.Expand(StudyLoader.LoadFile(Path.Combine(Folder(), file)));
        Assert.Equal(runs, plan.Runs.Count());
        Assert.Equal(plan.Cells.Count, plan.Cells.Select(c => c.Name).Distinct().Count());
    }

    private static string Folder()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, "experiments", "studies");
            if (Directory.Exists(path))
            {
                return path;
            }
        }

        throw new DirectoryNotFoundException("experiments/studies");
    }
}

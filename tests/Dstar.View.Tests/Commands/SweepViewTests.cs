using System.Text.Json;
using Dstar.Studies.Definition;
using Dstar.View.Tests.Browser;

namespace Dstar.View.Tests.Commands;

/// <summary><c>dstar sweep STUDY --view</c> as a real process: the study's grid is served before its runs start, through the run's end.</summary>
public class SweepViewTests
{
    [Fact]
    [Trait("Category", "EndToEnd")]
    public async Task Sweep_with_view_serves_every_cell_of_the_study_while_it_runs()
    {
        using var root = new TempDirectory();
        var study = RepositoryFile("experiments", "studies", "quick.yaml");
        var plan = StudyPlan.Expand(StudyLoader.LoadFile(study));
        using var sweep = DstarProcess.Start("sweep", study, "--out", root.Combine("quick"), "--parallel", "2", "--view", "http://127.0.0.1:0");
        var address = sweep.WaitForLine(@"^view: (http://127\.0\.0\.1:\d+/)", TimeSpan.FromMinutes(2)).Groups[1].Value;

        // The view starts before the sweep's worker processes (which take about a second to be ready): the grid is there.
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        using var document = JsonDocument.Parse(await client.GetStringAsync("/api/study"));
        var cells = document.RootElement.GetProperty("cells").EnumerateArray().ToArray();
        Assert.Equal(plan.Cells.Select(c => c.Name), cells.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(plan.Runs.Count(), document.RootElement.GetProperty("runs").GetProperty("total").GetInt32());
        Assert.Equal("quick", document.RootElement.GetProperty("name").GetString());

        Assert.Equal(0, await sweep.WaitAsync(TimeSpan.FromMinutes(5)));
        Assert.Contains("report: ", sweep.Output);
    }

    private static string RepositoryFile(params string[] parts)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine([directory.FullName, .. parts]);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(Path.Combine(parts));
    }
}

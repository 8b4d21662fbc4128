using Dstar.Studies.Definition;
using Dstar.View.Board;

namespace Dstar.View.Directories;

/// <summary>
/// A study's output directory (what <c>dstar sweep</c> writes: plan.json, cells/CELL/seed-S/, report/) shown on a
/// board: the grid of every cell of plan.json with each run's state and result read from its files, the runs
/// themselves, and the report once it exists.
/// </summary>
public static class StudyDirectory
{
    /// <summary>True when <paramref name="directory"/> holds a study's plan.json.</summary>
    public static bool IsStudy(string directory) => File.Exists(Path.Combine(directory, PlanFile.FileName));

    /// <summary>Reads the study in <paramref name="directory"/> onto <paramref name="board"/>.</summary>
    /// <exception cref="InvalidDataException">plan.json is missing or is not a study plan (the message says which).</exception>
    public static StudyView Show(string directory, ViewBoard board)
    {
        var study = board.ShowStudy(PlanFile.Read(directory), directory);
        study.Refresh();
        return study;
    }
}

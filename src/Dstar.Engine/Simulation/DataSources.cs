using Dstar.Engine.Configuration;
using Dstar.Learning.Data;

namespace Dstar.Engine.Simulation;

/// <summary>Loads the image data sets named in a config.</summary>
internal static class DataSources
{
    /// <summary>The training and test sets of <paramref name="data"/>, and a line saying which copy was used.</summary>
    /// <exception cref="ArgumentException">the data set cannot be found or read; the message names where it looked.</exception>
    public static (Dataset Train, Dataset Test, string Description) Load(DataConfig data) =>
        throw new ArgumentException($"data.name = {data.Name}: this build cannot read image data sets yet (use synthetic-logistic or synthetic-linear)");
}

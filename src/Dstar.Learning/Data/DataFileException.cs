namespace Dstar.Learning.Data;

/// <summary>A data file is missing, corrupt, truncated or does not match its partner; the message names the file and the problem.</summary>
public sealed class DataFileException : IOException
{
    /// <summary>Creates the error for <paramref name="path"/>.</summary>
    public DataFileException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}

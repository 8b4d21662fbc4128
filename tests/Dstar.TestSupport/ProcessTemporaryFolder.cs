namespace Dstar.TestSupport;

/// <summary>
/// A folder in the system's temporary folder for the files a test process writes, removed when the process exits, so
/// that runs' files do not pile up there. Tests that clean up after themselves do not need it.
/// </summary>
public static class ProcessTemporaryFolder
{
    /// <summary>Creates <c>PREFIX-XXXXXXXX</c> in the temporary folder and registers its removal at process exit.</summary>
    public static string Create(string prefix)
    {
        var root = Path.Combine(Path.GetTempPath(), prefix + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A leftover in the temporary folder is not worth failing the test run for.
            }
        };
        return root;
    }
}

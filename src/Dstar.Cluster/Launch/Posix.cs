using System.Runtime.InteropServices;

namespace Dstar.Cluster.Launch;

/// <summary>POSIX signals, which .NET's <see cref="System.Diagnostics.Process"/> cannot send (Kill is SIGKILL).</summary>
public static partial class Posix
{
    /// <summary>SIGTERM.</summary>
    public const int SigTerm = 15;

    /// <summary>Sends SIGTERM to <paramref name="processId"/>; true when delivered.</summary>
    public static bool Terminate(int processId) => kill(processId, SigTerm) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}

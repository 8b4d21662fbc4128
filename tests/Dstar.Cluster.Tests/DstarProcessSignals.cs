using Dstar.Cluster.Launch;

namespace Dstar.Cluster.Tests;

/// <summary>Signals for a <see cref="DstarProcess"/> beyond the shared helper's SIGKILL.</summary>
internal static class DstarProcessSignals
{
    /// <summary>SIGTERM: a polite stop, as a terminal's Ctrl-C or Kubernetes would ask.</summary>
    public static void Terminate(this DstarProcess process) => Posix.Terminate(process.Id);
}

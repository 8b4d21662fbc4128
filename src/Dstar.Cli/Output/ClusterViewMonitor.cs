using Dstar.Cluster.Observability;
using Dstar.View.Board;

namespace Dstar.Cli.Output;

/// <summary>
/// Joins the parameter server's monitoring hook to the live view's cluster panel (<c>dstar serve --view</c>): the
/// cluster layer does not know the view, and the view does not know the cluster; the command that owns both wires
/// them here.
/// </summary>
internal sealed class ClusterViewMonitor(ClusterView view) : IClusterMonitor
{
    public void Joined(int worker, string peer) => view.Joined(worker, peer);

    public void Left(int worker) => view.Left(worker);

    public void Received(int worker) => view.Received(worker);

    public void JoinRefused(string reason, int? worker, string peer) => view.JoinRefused(reason, worker, peer);

    public void GradientRefused(string reason, int worker) => view.GradientRefused(reason, worker);
}

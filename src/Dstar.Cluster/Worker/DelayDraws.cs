using Dstar.Engine.Workers;

namespace Dstar.Cluster.Worker;

/// <summary>
/// The response times of all N workers in the round last asked for, shared by the workers of one process
/// (<see cref="ClusterWorker.RunGroupAsync"/>). <see cref="WorkerRound.SampleDelays"/> draws all N from the round's
/// stream to give any one of them, so that each worker's time matches the simulator's; without sharing, a process of
/// G workers drew G·N values a round (a million at G = N = 1,024), with it N. The delay models are stateless, so
/// which worker's <see cref="WorkerRound"/> draws does not matter.
/// </summary>
internal sealed class DelayDraws
{
    private readonly object _gate = new();
    private readonly double[] _delays;
    private long _round = -1;

    /// <param name="workers">N.</param>
    public DelayDraws(int workers) => _delays = new double[workers];

    /// <summary>Worker <paramref name="worker"/>'s response time in round <paramref name="t"/>, drawn with <paramref name="round"/> unless this round's draws are already here.</summary>
    /// <exception cref="InvalidOperationException">the delay model returned a time that is not ≥ 0 or +∞.</exception>
    public double For(WorkerRound round, long t, int worker)
    {
        lock (_gate)
        {
            if (_round != t)
            {
                // Marked only once drawn: a model that throws leaves nothing half-drawn behind.
                _round = -1;
                round.SampleDelays(t, _delays);
                _round = t;
            }

            return _delays[worker];
        }
    }
}

using Dstar.Engine.Server;
using Dstar.Engine.Transport;

namespace Dstar.Engine.Guarantees;

/// <summary>
/// Draws the rule's output G at a fixed point x, R times: each draw restores the server to x (zero momentum, the
/// point's previous aggregate) at round t + r, runs one ordinary round (publish, g₀, first-k collection with the
/// configured attack, pre-aggregators and rule) and reads the aggregate the server kept. The step the round takes is
/// undone by the next restore, so every draw is at x; the server is left at x after the last.
/// </summary>
public static class AggregateDraws
{
    /// <summary>The R aggregates, one per round t + r.</summary>
    /// <exception cref="Dstar.Core.AggregationException">a round failed: the rule refused its input, or its output was not finite.</exception>
    /// <exception cref="InvalidOperationException">the workers could not fill a round.</exception>
    public static async Task<IReadOnlyList<float[]>> DrawAsync(ParameterServer server, ITransport transport, ResiliencePoint point, int draws, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(point);
        ArgumentOutOfRangeException.ThrowIfLessThan(draws, 1);
        int d = point.Parameters.Length;
        var velocity = new float[d];
        var results = new float[draws][];
        try
        {
            for (int r = 0; r < draws; r++)
            {
                Reset(server, point, r, velocity);
                await server.RunRoundAsync(transport, evaluate: false, cancellationToken).ConfigureAwait(false);
                results[r] = server.PreviousAggregate!.Value.ToArray();
            }
        }
        finally
        {
            Reset(server, point, 0, velocity);
        }

        return results;
    }

    private static void Reset(ParameterServer server, ResiliencePoint point, int draw, float[] velocity)
    {
        Array.Clear(velocity);
        server.Restore(point.FirstRound + draw, point.Parameters, velocity, hasVelocity: false,
            point.PreviousAggregate ?? [], point.PreviousAggregate is not null);
    }
}

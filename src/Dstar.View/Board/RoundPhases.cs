using Dstar.Engine.Recording;
using Dstar.Engine.Simulation;

namespace Dstar.View.Board;

/// <summary>
/// Where one round's wall time went: named parts in seconds. The page draws whatever parts a round carries, so a
/// host measures what it can (the simulator its worker gradients, attack, g₀, aggregation and evaluation).
/// </summary>
/// <param name="Names">The parts' names (snake_case; the same array for every round of a run).</param>
/// <param name="Seconds">Each part's wall seconds in this round, in the order of <paramref name="Names"/>.</param>
public sealed record RoundPhases(IReadOnlyList<string> Names, IReadOnlyList<double> Seconds);

/// <summary>Measures the phases of each round as the view records it (called on the run's thread, once per round).</summary>
public interface IRoundPhaseSource
{
    /// <summary>The phases of the round <paramref name="record"/> just recorded; <paramref name="previous"/> is the round before it, or null.</summary>
    RoundPhases? Next(RoundRecord record, RoundRecord? previous);
}

/// <summary>
/// A simulator's per-round phases, from the wall-clock counters it already keeps (the ones behind its end-of-run
/// "wall time in rounds" line): worker gradients, attack, validation gradient, aggregation, evaluation, and the rest of
/// the round's wall time (the simulator's own work, recording, checkpoints, the sinks). Each call takes the counters'
/// growth since the previous call, so it costs a few subtractions per round.
/// </summary>
public sealed class SimulatorPhases(Simulator simulator) : IRoundPhaseSource
{
    /// <summary>The parts, in the order of <see cref="RoundPhases.Seconds"/>.</summary>
    public static readonly IReadOnlyList<string> Names = ["worker_gradients", "attack", "validation_gradient", "aggregation", "evaluation", "other"];

    private double _oracle;
    private double _attack;
    private double _validation;
    private double _aggregation;
    private double _evaluation;

    /// <inheritdoc />
    public RoundPhases? Next(RoundRecord record, RoundRecord? previous)
    {
        var transport = simulator.Transport;
        var server = simulator.Server;
        double oracle = Take(ref _oracle, transport.OracleSeconds);
        double attack = Take(ref _attack, transport.AttackSeconds);
        double validation = Take(ref _validation, server.ValidationSeconds);
        double aggregation = Take(ref _aggregation, server.AggregationSeconds);
        double evaluation = Take(ref _evaluation, server.EvaluationSeconds);
        double wall = record.WallTime - (previous?.WallTime ?? 0);
        double other = Math.Max(0, wall - oracle - attack - validation - aggregation - evaluation);
        return new RoundPhases(Names, [oracle, attack, validation, aggregation, evaluation, other]);
    }

    private static double Take(ref double last, double now)
    {
        double part = now - last;
        last = now;
        return Math.Max(0, part);
    }
}

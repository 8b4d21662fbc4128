namespace Dstar.Engine.Server;

/// <summary>
/// Where one round's wall-clock time went, on a network transport (the cluster). Recorded only when the transport
/// runs on the wall clock: a simulator's rounds pass in virtual time, and its metrics stay byte-identical run to run
/// (its whole-run breakdown is printed at the end of <c>dstar simulate</c> instead).
/// </summary>
/// <param name="WaitSeconds">From publishing x_t to the round closing (the k-th accepted gradient, or the deadline).</param>
/// <param name="ComputeSeconds">The closing gradient's computation on its worker, as the worker reports it; null when unknown.</param>
/// <param name="DelaySeconds">The closing worker's other time between receiving x_t and sending (the emulated straggling
/// sleep of <c>--delay-scale</c> and <c>--compute-ms</c>, and any wait before it started computing), as it reports it; null when unknown.</param>
/// <param name="WireSeconds">The closing gradient's arrival time less its worker's own time: the transfer of x_t and of
/// the gradient, and any queueing on the way; null when unknown.</param>
/// <param name="ValidationSeconds">Computing g₀ (on the server, while the workers compute).</param>
/// <param name="AggregationSeconds">Pre-aggregators and the rule.</param>
/// <param name="StepSeconds">The optimizer step, with its overflow guard.</param>
/// <param name="EvaluationSeconds">The test-set evaluation after the step (0 when the round was not evaluated).</param>
public sealed record RoundTiming(
    double WaitSeconds,
    double? ComputeSeconds,
    double? DelaySeconds,
    double? WireSeconds,
    double ValidationSeconds,
    double AggregationSeconds,
    double StepSeconds,
    double EvaluationSeconds)
{
    /// <summary>The metrics columns, in order: wait_s, compute_s, delay_s, wire_s, validation_s, aggregation_s, step_s, evaluation_s.</summary>
    public static IReadOnlyList<string> Columns { get; } = ["wait_s", "compute_s", "delay_s", "wire_s", "validation_s", "aggregation_s", "step_s", "evaluation_s"];

    /// <summary>The values in <see cref="Columns"/> order.</summary>
    public double?[] Values() => [WaitSeconds, ComputeSeconds, DelaySeconds, WireSeconds, ValidationSeconds, AggregationSeconds, StepSeconds, EvaluationSeconds];

    /// <summary>A timing from values in <see cref="Columns"/> order (a metrics row read back).</summary>
    public static RoundTiming FromValues(IReadOnlyList<double?> v) =>
        new(v[0] ?? 0, v[1], v[2], v[3], v[4] ?? 0, v[5] ?? 0, v[6] ?? 0, v[7] ?? 0);
}

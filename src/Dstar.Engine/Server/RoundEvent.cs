using Dstar.Engine.Collection;
using Dstar.Learning;

namespace Dstar.Engine.Server;

/// <summary>Everything the parameter server observed in one round; the unit the run recorder streams to its sinks.</summary>
/// <param name="Round">t: the round index, equal to the version of the parameters the gradients were computed at (0-based).</param>
/// <param name="RoundSeconds">Seconds from publish to the close of collection, on the transport's clock (virtual in simulation).</param>
/// <param name="WallSeconds">Wall-clock seconds the whole round took in this process (not deterministic).</param>
/// <param name="AcceptedWorkers">Workers whose gradients the collector accepted, in arrival order.</param>
/// <param name="KeptWorkers">Accepted workers whose gradients the rule kept (ascending); all accepted ones when pre-aggregators changed the row count.</param>
/// <param name="FilteredWorkers">Accepted workers the rule left out (ascending), including rows it refused as non-finite.</param>
/// <param name="Drops">Messages the collector dropped, with reasons; workers that never answered appear as late.</param>
/// <param name="ValidationLoss">The loss of the server's validation minibatch at x_t, NaN without a validation split.</param>
/// <param name="AggregateNorm">‖G‖₂ of the aggregate the server stepped with.</param>
/// <param name="Evaluation">Test accuracy and loss after the step, when this round was evaluated.</param>
/// <param name="Rule">The pipeline name, for example <c>dstar</c> or <c>nnm → krum</c>.</param>
/// <param name="Scores">Per accepted row, the rule's score where it has one (dSTAR's deviation ratio); null otherwise.</param>
/// <param name="KeptIsExact">False when a pre-aggregator changed the row count, so kept rows cannot be mapped to workers.</param>
/// <param name="K">The k the round collected for (with <c>k: auto</c>, the one chosen); 0 when not given.</param>
/// <param name="KReason">With <c>k: auto</c>, why that k (the rule and its estimates); null otherwise.</param>
/// <param name="Timing">Where the round's wall-clock time went, on a wall-clock transport; null in simulation.</param>
public sealed record RoundEvent(
    long Round,
    double RoundSeconds,
    double WallSeconds,
    IReadOnlyList<int> AcceptedWorkers,
    IReadOnlyList<int> KeptWorkers,
    IReadOnlyList<int> FilteredWorkers,
    IReadOnlyList<Drop> Drops,
    double ValidationLoss,
    double AggregateNorm,
    Evaluation? Evaluation,
    string Rule,
    IReadOnlyList<double>? Scores,
    bool KeptIsExact,
    int K = 0,
    string? KReason = null,
    RoundTiming? Timing = null);

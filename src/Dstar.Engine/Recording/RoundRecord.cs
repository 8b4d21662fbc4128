using Dstar.Engine.Collection;

namespace Dstar.Engine.Recording;

/// <summary>One row of the metrics files: a <see cref="Server.RoundEvent"/> with running totals and Byzantine counts.</summary>
/// <param name="Round">t, 0-based.</param>
/// <param name="VirtualTime">Seconds of transport time from the start of the run to the close of this round.</param>
/// <param name="RoundTime">This round's seconds of transport time.</param>
/// <param name="WallTime">Wall-clock seconds from the start of the run (this process; not deterministic).</param>
/// <param name="Loss">The server's validation-minibatch loss at x_t (NaN without a validation split).</param>
/// <param name="Accuracy">Test accuracy after the step, when evaluated.</param>
/// <param name="TestLoss">Test loss after the step, when evaluated.</param>
/// <param name="Accepted">Workers whose gradients the collector accepted, in arrival order.</param>
/// <param name="Kept">Accepted workers the rule kept, ascending.</param>
/// <param name="Filtered">Accepted workers the rule left out, ascending.</param>
/// <param name="Dropped">Workers the collector dropped, with reasons, in order.</param>
/// <param name="ByzantineAccepted">How many accepted gradients came from Byzantine workers.</param>
/// <param name="ByzantineKept">How many kept gradients came from Byzantine workers.</param>
/// <param name="AggregateNorm">‖G‖₂.</param>
/// <param name="KeptIsExact">False when pre-aggregators changed the row count (kept = accepted then).</param>
/// <param name="K">The k the round collected for (with <c>k: auto</c>, the one chosen); 0 in rows written before it was recorded.</param>
/// <param name="KReason">With <c>k: auto</c>, why that k; null otherwise.</param>
/// <param name="Timing">Where the round's wall-clock time went (the cluster); null in simulation and in older rows.</param>
public sealed record RoundRecord(
    long Round,
    double VirtualTime,
    double RoundTime,
    double WallTime,
    double Loss,
    double? Accuracy,
    double? TestLoss,
    IReadOnlyList<int> Accepted,
    IReadOnlyList<int> Kept,
    IReadOnlyList<int> Filtered,
    IReadOnlyList<(int Worker, DropReason Reason)> Dropped,
    int ByzantineAccepted,
    int ByzantineKept,
    double AggregateNorm,
    bool KeptIsExact,
    int K = 0,
    string? KReason = null,
    Server.RoundTiming? Timing = null);

/// <summary>What the sinks learn when a run starts.</summary>
/// <param name="Name">A short run name (the demo uses "mean", "median", "dstar").</param>
/// <param name="Directory">The run directory, or null when nothing is written.</param>
/// <param name="WorkerCount">N.</param>
/// <param name="Rounds">The rounds the run will reach.</param>
/// <param name="Byzantine">The Byzantine worker ids (known in simulation; empty on a cluster).</param>
/// <param name="Description">One line: data, model, rule, attack.</param>
public sealed record RunInfo(string Name, string? Directory, int WorkerCount, int Rounds, IReadOnlyList<int> Byzantine, string Description);

/// <summary>A consumer of the round stream (console, files, plots).</summary>
public interface IRunSink
{
    /// <summary>The run starts, or resumes at <paramref name="firstRound"/> after <paramref name="replayed"/> rounds already recorded.</summary>
    void Start(RunInfo info, long firstRound, IReadOnlyList<RoundRecord> replayed);

    /// <summary>One round finished.</summary>
    void Record(RoundRecord record);

    /// <summary>The run ended (or stopped early); <paramref name="summary"/> covers every round so far.</summary>
    void Finish(RunSummary summary);
}

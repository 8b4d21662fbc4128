namespace Dstar.Cluster.Configuration;

/// <summary>
/// How a cluster worker turns the experiment's virtual time into real time. The simulator's delay model gives each
/// worker a response time in virtual seconds; a cluster worker sleeps that time × <see cref="DelayScale"/> real
/// seconds, plus <see cref="ComputeMilliseconds"/>, before answering (on top of the real time its gradient takes).
/// </summary>
public sealed record RealTimeOptions
{
    /// <summary>Real seconds per virtual second of the delay model (≥ 0; 0 ignores the delay model).</summary>
    public double DelayScale { get; init; } = 0.01;

    /// <summary>Extra real milliseconds every gradient takes (≥ 0): emulates a heavier model.</summary>
    public int ComputeMilliseconds { get; init; }

    /// <summary>Refuses negative or non-finite values, naming the option.</summary>
    /// <exception cref="ArgumentException">a value is out of range.</exception>
    public void Validate()
    {
        if (!(DelayScale >= 0 && double.IsFinite(DelayScale)))
        {
            throw new ArgumentException($"--delay-scale = {DelayScale}: need a finite value ≥ 0.");
        }

        if (ComputeMilliseconds < 0)
        {
            throw new ArgumentException($"--compute-ms = {ComputeMilliseconds}: need ≥ 0.");
        }
    }
}

namespace Dstar.Cli.Failures;

/// <summary>
/// A command's refusal to go on, with the kind that sets its exit code (bad options by default). The message is one
/// line; <see cref="CommandRunner"/> prints it on standard error, prefixed with the command.
/// </summary>
public sealed class CommandFailure(string message, FailureKind kind = FailureKind.Usage) : Exception(message)
{
    /// <summary>What kind of failure this is.</summary>
    public FailureKind Kind { get; } = kind;
}

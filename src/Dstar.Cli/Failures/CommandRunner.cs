using System.Globalization;
using System.Security.Cryptography;
using Dstar.Cli.Npy;
using Dstar.Core;
using Dstar.Core.Specs;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;

namespace Dstar.Cli.Failures;

/// <summary>What a running command tells <see cref="CommandRunner"/> about itself.</summary>
public sealed class CommandScope
{
    /// <summary>The run directory once the command knows it: an unexpected error's trace is logged there.</summary>
    public string? RunDirectory { get; set; }
}

/// <summary>
/// The one error path of every command: runs its body and turns any failure into one line on standard error,
/// <c>dstar COMMAND: what went wrong</c> (an invalid configuration gets one line per problem), with the exit code of
/// <see cref="ExitCodes"/>. No .NET exception formatting reaches the user. An exception no command expects is a bug:
/// its stack trace goes to a log file (<c>dstar-error.log</c> in the run directory when there is one, else a
/// temporary file) and the line names that file.
/// </summary>
public static class CommandRunner
{
    /// <summary>The log file's name inside a run directory.</summary>
    public const string ErrorLogName = "dstar-error.log";

    /// <summary>Runs <paramref name="body"/>; returns its exit code, or the failure's.</summary>
    public static int Run(string command, TextWriter error, Func<CommandScope, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var scope = new CommandScope();
        try
        {
            return body(scope);
        }
        catch (Exception e)
        {
            return Report(command, error, e, scope);
        }
    }

    /// <summary>Runs <paramref name="body"/>; returns its exit code, or the failure's.</summary>
    public static async Task<int> RunAsync(string command, TextWriter error, Func<CommandScope, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var scope = new CommandScope();
        try
        {
            return await body(scope).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return Report(command, error, e, scope);
        }
    }

    /// <summary>The kind of <paramref name="failure"/>, which sets the exit code.</summary>
    public static FailureKind Classify(Exception failure) => failure switch
    {
        CommandFailure f => f.Kind,
        AggregateException { InnerExceptions.Count: 1 } a => Classify(a.InnerExceptions[0]),
        ConfigException or SpecException or ArgumentException => FailureKind.Usage,
        CheckpointException or NpyFormatException or IOException or UnauthorizedAccessException or InvalidDataException
            or FormatException or CryptographicException => FailureKind.Data,
        OperationCanceledException => FailureKind.Interrupted,
        AggregationException or InvalidOperationException or TimeoutException or OutOfMemoryException => FailureKind.RunFailed,
        _ => FailureKind.Unexpected,
    };

    /// <summary>
    /// The message of <paramref name="failure"/> as one line, without what .NET appends to argument exceptions
    /// (" (Parameter 'x')", "Actual value was 9.").
    /// </summary>
    public static string Describe(Exception failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (failure is AggregateException { InnerExceptions.Count: 1 } single)
        {
            return Describe(single.InnerExceptions[0]);
        }

        var message = failure.Message;
        if (failure is ArgumentException argument)
        {
            int cut = argument.ParamName is null ? -1 : message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            if (cut >= 0)
            {
                message = message[..cut];
            }

            int actual = message.IndexOf("Actual value was", StringComparison.Ordinal);
            if (actual >= 0)
            {
                message = message[..actual];
            }
        }

        return OneLine(failure is OutOfMemoryException ? "out of memory: a setting or an input is too large for this machine" : message);
    }

    /// <summary>Collapses line breaks so a message always prints as one line.</summary>
    public static string OneLine(string text) => (text ?? "").ReplaceLineEndings(" ").Trim();

    private static int Report(string command, TextWriter error, Exception failure, CommandScope scope)
    {
        var kind = Classify(failure);
        if (failure is ConfigException config)
        {
            error.WriteLine($"dstar {command}: invalid configuration ({config.Errors.Count} problem{(config.Errors.Count == 1 ? "" : "s")}):");
            foreach (var problem in config.Errors)
            {
                error.WriteLine("  " + OneLine(problem.ToString()));
            }
        }
        else if (kind == FailureKind.Interrupted)
        {
            error.WriteLine($"dstar {command}: interrupted");
        }
        else if (kind == FailureKind.Unexpected)
        {
            var log = WriteLog(command, failure, scope.RunDirectory);
            error.WriteLine(log is null
                ? $"dstar {command}: internal error: {Describe(failure)} (the trace could not be saved to a log file)"
                : $"dstar {command}: internal error: {Describe(failure)}; the details are in {log}");
        }
        else
        {
            error.WriteLine($"dstar {command}: {Describe(failure)}");
        }

        return ExitCodes.Of(kind);
    }

    // The run directory's log when there is one, else a new temporary file; null when neither can be written.
    private static string? WriteLog(string command, Exception failure, string? runDirectory)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:O} dstar {command}: unexpected {failure.GetType().FullName}\n{failure}\n\n");
        if (runDirectory is not null && Directory.Exists(runDirectory))
        {
            try
            {
                var path = Path.Combine(runDirectory, ErrorLogName);
                File.AppendAllText(path, text);
                return path;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Fall back to a temporary file.
            }
        }

        try
        {
            var path = Path.Combine(Path.GetTempPath(),
                string.Create(CultureInfo.InvariantCulture, $"dstar-{command.Replace(' ', '-')}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log"));
            File.AppendAllText(path, text);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

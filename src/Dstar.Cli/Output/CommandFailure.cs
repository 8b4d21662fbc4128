using Dstar.Cli.Npy;
using Dstar.Core;
using Dstar.Core.Specs;

namespace Dstar.Cli.Output;

/// <summary>
/// A command's refusal to go on: bad options, unreadable files, a rule that refuses its input. The message is one
/// line; <see cref="Guard"/> prints it on standard error, prefixed with the command, and exits with code 1.
/// </summary>
public sealed class CommandFailure(string message) : Exception(message);

/// <summary>Runs a command body so that every failure becomes one line on standard error and exit code 1.</summary>
public static class CommandGuard
{
    /// <summary>Exit code for any failure a command reports.</summary>
    public const int FailureExitCode = 1;

    /// <summary>
    /// Runs <paramref name="body"/>; a <see cref="CommandFailure"/>, <see cref="SpecException"/>,
    /// <see cref="AggregationException"/>, <see cref="NpyFormatException"/>, I/O error or any other exception is printed
    /// as <c>dstar COMMAND: message</c> on one line of <paramref name="error"/> (never a stack trace), and the exit
    /// code is <see cref="FailureExitCode"/>.
    /// </summary>
    public static int Guard(string command, TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is CommandFailure or SpecException or AggregationException or NpyFormatException)
        {
            error.WriteLine($"dstar {command}: {OneLine(e.Message)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"dstar {command}: {OneLine(e.Message)}");
        }
        catch (OutOfMemoryException)
        {
            error.WriteLine($"dstar {command}: out of memory (the input is too large for this machine)");
        }
        catch (Exception e)
        {
            // Not expected: still one line, but with the exception type so that the bug can be found.
            error.WriteLine($"dstar {command}: unexpected {e.GetType().Name}: {OneLine(e.Message)}");
        }

        return FailureExitCode;
    }

    /// <summary>Collapses line breaks so a message always prints as one line.</summary>
    public static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}

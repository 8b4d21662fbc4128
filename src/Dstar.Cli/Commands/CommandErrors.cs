using System.Security.Cryptography;

namespace Dstar.Cli.Commands;

/// <summary>Turns the cluster commands' input errors into one clear line on stderr and exit code 2.</summary>
internal static class CommandErrors
{
    public const int BadInput = 2;

    public static int Run(string command, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsInputError(e))
        {
            return Report(command, e);
        }
    }

    public static async Task<int> RunAsync(string command, Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (IsInputError(e))
        {
            return Report(command, e);
        }
    }

    private static bool IsInputError(Exception e) =>
        e is FormatException or ArgumentException or IOException or InvalidDataException or CryptographicException or UnauthorizedAccessException
            or InvalidOperationException or TimeoutException
            or Dstar.Engine.Configuration.ConfigException or Dstar.Engine.Checkpoints.CheckpointException;

    private static int Report(string command, Exception e)
    {
        Console.Error.WriteLine($"dstar {command}: error: {e.Message}");
        return BadInput;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Dstar.Studies.Tests.Sweep;

/// <summary>A real <c>dotnet dstar.dll …</c> process from the test's output directory, with its output lines captured.</summary>
internal sealed class DstarCommand : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = new();
    private readonly ConcurrentQueue<string> _all = new();

    private DstarCommand(Process process) => _process = process;

    public string Output => string.Join('\n', _all);

    public static DstarCommand Start(params string[] arguments)
    {
        var dotnet = Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dstar.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var command = new DstarCommand(process);
        process.OutputDataReceived += (_, e) => command.Add(e.Data);
        process.ErrorDataReceived += (_, e) => command.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return command;
    }

    /// <summary>Runs to the end; returns the exit code and every output line.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        using var command = Start(arguments);
        using var cancel = new CancellationTokenSource(timeout);
        await command._process.WaitForExitAsync(cancel.Token);
        command._process.WaitForExit();
        return (command._process.ExitCode, command.Output);
    }

    /// <summary>The first new line that matches <paramref name="pattern"/>.</summary>
    public Match WaitForLine(string pattern, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_lines.TryTake(out var line, TimeSpan.FromMilliseconds(200)) && Regex.Match(line, pattern) is { Success: true } match)
            {
                return match;
            }

            if (_process.HasExited && _lines.Count == 0)
            {
                break;
            }
        }

        throw new TimeoutException($"no line matching '{pattern}'. Output:\n{Output}");
    }

    /// <summary>SIGKILL to this process only (its children are left to notice).</summary>
    public void KillParentOnly()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            // Into the full output first: a waiter woken by the line may read Output at once, and must find it there.
            _all.Enqueue(line);
            _lines.Add(line);
        }
    }
}

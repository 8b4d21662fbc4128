using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Dstar.View.Tests.Browser;

/// <summary>A real <c>dotnet dstar.dll …</c> process from the test's output directory, its output lines captured.</summary>
internal sealed class DstarProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = new();
    private readonly ConcurrentQueue<string> _all = new();

    private DstarProcess(Process process) => _process = process;

    /// <summary>The .NET host and the dstar.dll beside the tests: what a sweep's worker processes are started with.</summary>
    public static (string Executable, string Dll) Command =>
        (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet", Path.Combine(AppContext.BaseDirectory, "dstar.dll"));

    /// <summary>Everything it printed so far.</summary>
    public string Output => string.Join('\n', _all);

    public bool HasExited => _process.HasExited;

    public static DstarProcess Start(params string[] arguments)
    {
        var (executable, dll) = Command;
        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var command = new DstarProcess(process);
        process.OutputDataReceived += (_, e) => command.Add(e.Data);
        process.ErrorDataReceived += (_, e) => command.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return command;
    }

    /// <summary>Runs to the end; returns the exit code and the output.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        using var command = Start(arguments);
        using var cancel = new CancellationTokenSource(timeout);
        await command._process.WaitForExitAsync(cancel.Token);
        command._process.WaitForExit();
        return (command._process.ExitCode, command.Output);
    }

    /// <summary>Waits for the process to end; returns its exit code.</summary>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        _process.WaitForExit();
        return _process.ExitCode;
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

    /// <summary>Ends the process and its children.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
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

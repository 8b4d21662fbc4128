using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Dstar.TestSupport;

/// <summary>
/// A real <c>dotnet dstar.dll …</c> OS process, started from the running test's output directory (where the test
/// project's reference to Dstar.Cli puts dstar.dll), with every line it prints captured.
/// </summary>
public sealed class DstarProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _unread = new();
    private readonly ConcurrentQueue<string> _all = new();

    private DstarProcess(Process process) => _process = process;

    /// <summary>dstar.dll beside the tests.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "dstar.dll");

    /// <summary>The .NET host and dstar.dll: what a command that starts dstar processes of its own is given.</summary>
    public static (string Executable, string Dll) Command => (Dotnet, Dll);

    /// <summary>The OS process id.</summary>
    public int Id => _process.Id;

    /// <summary>Everything it printed so far (standard output and error, one line each).</summary>
    public string Output => string.Join('\n', _all);

    /// <summary>True once it has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Its exit code (once it has exited).</summary>
    public int ExitCode => _process.ExitCode;

    private static string Dotnet => Environment.ProcessPath is { } host && host.EndsWith("dotnet", StringComparison.Ordinal) ? host : "dotnet";

    /// <summary>Starts <c>dotnet dstar.dll ARGUMENTS</c>.</summary>
    public static DstarProcess Start(params string[] arguments) => Start(arguments, wrapper: null);

    /// <summary>Starts <c>dotnet dstar.dll ARGUMENTS</c>, inside a command prefix when given (e.g. <c>ip netns exec NS</c>).</summary>
    public static DstarProcess Start(IEnumerable<string> arguments, string[]? wrapper)
    {
        var command = (wrapper ?? []).Concat([Dotnet, Dll]).Concat(arguments).ToArray();
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };

        // No debugger or diagnostics IPC in the processes under test (inherited by the ones they start): many tests
        // kill them on purpose, and a killed .NET process leaves its clr-debug-pipe-* and dotnet-diagnostic-* files in /tmp.
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var started = new DstarProcess(process);
        process.OutputDataReceived += (_, e) => started.Add(e.Data);
        process.ErrorDataReceived += (_, e) => started.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Runs <c>dotnet dstar.dll ARGUMENTS</c> to its end; returns the exit code and the output.</summary>
    /// <exception cref="TimeoutException">it did not exit within <paramref name="timeout"/> (it is then killed; the message holds its output).</exception>
    public static async Task<(int Exit, string Output)> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        using var process = Start(arguments);
        var exit = await process.WaitAsync(timeout);
        return (exit, process.Output);
    }

    /// <summary>Waits for it to exit; returns the exit code, once all its output has been captured.</summary>
    /// <exception cref="TimeoutException">it did not exit within <paramref name="timeout"/> (the message holds its output).</exception>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"dstar did not exit within {timeout.TotalSeconds} s. Output:\n{Output}");
        }

        // The parameterless wait returns only once the output readers have seen the end of both streams.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>The first line not yet waited for that matches <paramref name="pattern"/>.</summary>
    /// <exception cref="TimeoutException">none came within <paramref name="timeout"/>, or it exited first (the message holds its output).</exception>
    public Match WaitForLine(string pattern, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_unread.TryTake(out var line, TimeSpan.FromMilliseconds(200)) && Regex.Match(line, pattern) is { Success: true } match)
            {
                return match;
            }

            if (_process.HasExited && _unread.Count == 0)
            {
                break;
            }
        }

        throw new TimeoutException($"no line matching '{pattern}'. Output:\n{Output}");
    }

    /// <summary>SIGKILL to it and every process it started (a crash: no chance to clean up); returns once it has exited.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>SIGKILL to it only: the processes it started are left to notice.</summary>
    public void KillParentOnly()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    /// <inheritdoc />
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
            _unread.Add(line);
        }
    }
}

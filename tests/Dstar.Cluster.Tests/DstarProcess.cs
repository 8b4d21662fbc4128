using System.Collections.Concurrent;
using System.Diagnostics;
using Dstar.Cluster.Launch;

namespace Dstar.Cluster.Tests;

/// <summary>A real <c>dstar</c> OS process started from the test's output directory, with its output captured.</summary>
internal sealed class DstarProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private DstarProcess(Process process) => _process = process;

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "dstar.dll");

    public int Id => _process.Id;

    public string Output => string.Join('\n', _lines);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>dotnet dstar.dll args…</c>, optionally wrapped in a command prefix (e.g. <c>ip netns exec NS</c>).</summary>
    public static DstarProcess Start(IEnumerable<string> arguments, string[]? wrapper = null)
    {
        var dotnet = Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet";
        var command = (wrapper ?? []).Concat([dotnet, Dll]).Concat(arguments).ToArray();
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var result = new DstarProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { result._lines.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { result._lines.Enqueue(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

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

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: a crash, no chance to clean up.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: a polite stop.</summary>
    public void Terminate() => Posix.Terminate(_process.Id);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}

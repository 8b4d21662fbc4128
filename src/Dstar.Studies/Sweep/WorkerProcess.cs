using System.Diagnostics;

namespace Dstar.Studies.Sweep;

/// <summary>How to start the <c>dstar</c> executable again: a program and the arguments that come before the subcommand.</summary>
/// <param name="Executable">The apphost, or <c>dotnet</c>.</param>
/// <param name="Prefix">For example the path of dstar.dll after <c>dotnet</c>.</param>
public sealed record WorkerCommand(string Executable, IReadOnlyList<string> Prefix)
{
    /// <summary>The hidden subcommand a worker process runs.</summary>
    public const string Subcommand = "sweep-worker";
}

/// <summary>One child <c>dstar sweep-worker</c> process: assignments go to its input, reports come from its output, its error output goes to a log.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>Seconds from the process start to its <c>ready</c> report.</summary>
    public double StartupSeconds { get; private set; }

    /// <summary>Starts a worker and waits for its <c>ready</c> line.</summary>
    /// <exception cref="InvalidOperationException">the process cannot start, or exits before it is ready.</exception>
    public static async Task<WorkerProcess> StartAsync(WorkerCommand command, Action<string> log, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(command.Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Prefix.Append(WorkerCommand.Subcommand))
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException($"cannot start the sweep worker '{command.Executable}': {e.Message}");
        }

        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                log($"[worker {process.Id}] {e.Data}");
            }
        };
        process.BeginErrorReadLine();
        var worker = new WorkerProcess(process);
        var ready = await worker.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (ready?.Event != WorkerReport.Ready)
        {
            worker.Dispose();
            throw new InvalidOperationException($"the sweep worker process {process.Id} exited before it was ready (see workers.log)");
        }

        worker.StartupSeconds = ready.Seconds;
        return worker;
    }

    /// <summary>Sends one assignment.</summary>
    public async Task SendAsync(WorkerAssignment assignment)
    {
        await _process.StandardInput.WriteLineAsync(WorkerMessages.Encode(assignment)).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>The next report, or null when the process ended (crashed, or was killed).</summary>
    public async Task<WorkerReport?> ReadAsync(CancellationToken cancellationToken)
    {
        while (await _process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (WorkerMessages.Decode<WorkerReport>(line) is { Event: not null } report)
            {
                return report;
            }
        }

        return null;
    }

    /// <summary>The exit code once it has exited, else null.</summary>
    public int? ExitCode()
    {
        if (!_process.WaitForExit(2000))
        {
            return null;
        }

        return _process.ExitCode;
    }

    /// <summary>Closes its input (it exits when idle) and waits a little for it.</summary>
    public void Close()
    {
        try
        {
            _process.StandardInput.Close();
            _process.WaitForExit(10_000);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}

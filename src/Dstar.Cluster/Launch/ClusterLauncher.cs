using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Security;
using Dstar.Cluster.Worker;
using Dstar.Engine.Configuration;
using Dstar.Engine.Running;

namespace Dstar.Cluster.Launch;

/// <summary>
/// <c>dstar launch</c>: one machine, real processes. It writes a key pair per worker and the authorized-keys file
/// into <c>OUT/keys</c>, starts <c>dstar serve</c> on a free loopback port (plain h2c, allowed on loopback only),
/// waits for <c>/healthz</c>, starts ⌈N / K⌉ <c>dstar work</c> processes of K workers each (<c>--workers-per-process</c>;
/// <see cref="AutoWorkersPerProcess"/> by default), streams the server's progress, and ends the workers when the server exits. The run directory is the server's (<c>OUT</c>).
/// </summary>
public static class ClusterLauncher
{
    /// <summary>Runs the whole cluster; returns the server's exit code.</summary>
    /// <param name="config">The run (validated).</param>
    /// <param name="realTime">How the workers turn virtual delays into sleeps.</param>
    /// <param name="outputDirectory">The run directory.</param>
    /// <param name="dstar">How to start the <c>dstar</c> command: the executable and the arguments that come before the subcommand.</param>
    /// <param name="progress">Where the server's output is streamed.</param>
    /// <param name="cancellationToken">Stops the cluster (the server checkpoints and exits).</param>
    /// <param name="serverArguments">More arguments for <c>dstar serve</c> (for example <c>--view URL</c>).</param>
    /// <param name="overwrite">Move an output directory that holds a run or keys aside instead of refusing it.</param>
    /// <param name="workersPerProcess">How many workers each worker process runs (<c>dstar work --ids</c>; the last process may run fewer), or null for <see cref="AutoWorkersPerProcess"/>.</param>
    /// <exception cref="IOException">the output directory holds a run or keys, and <paramref name="overwrite"/> is false.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="workersPerProcess"/> is below 1 or above <see cref="ClusterWorker.MaxGroup"/>.</exception>
    public static async Task<int> RunAsync(ExperimentConfig config, RealTimeOptions realTime, string outputDirectory, (string Executable, string[] Prefix) dstar,
        TextWriter progress, CancellationToken cancellationToken = default, IReadOnlyList<string>? serverArguments = null, bool overwrite = false,
        int? workersPerProcess = null)
    {
        realTime.Validate();
        int perProcess = workersPerProcess ?? AutoWorkersPerProcess(config.Workers);
        ArgumentOutOfRangeException.ThrowIfLessThan(perProcess, 1, nameof(workersPerProcess));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(perProcess, ClusterWorker.MaxGroup, nameof(workersPerProcess));
        string[] launchFiles = ["keys", "authorized_keys", "cluster.yaml"];
        if (!overwrite && Directory.Exists(outputDirectory) && RunDirectory.HoldsRun(outputDirectory, launchFiles))
        {
            // Not RunDirectory.Claim's message, which tells simulate's and serve's users to pass --resume: launch has none.
            var state = RunStateFile.TryRead(outputDirectory)?.State ?? "unknown state";
            throw new IOException($"{outputDirectory} already holds a run ({state}); dstar launch does not resume runs (dstar serve --resume does, with its "
                                  + $"cluster.yaml and authorized_keys): pass --overwrite to move it aside to {outputDirectory.TrimEnd('/', '\\')}.old-TIMESTAMP, or another --out");
        }

        if (RunDirectory.Claim(outputDirectory, overwrite ? RunDirectoryMode.Overwrite : RunDirectoryMode.New, launchFiles) is { } moved)
        {
            progress.WriteLine($"moved the previous {outputDirectory} aside to {moved}");
        }

        Directory.CreateDirectory(outputDirectory);
        var keys = Path.Combine(outputDirectory, "keys");
        Directory.CreateDirectory(keys);
        var lines = new List<string>();
        for (var id = 0; id < config.Workers; id++)
        {
            var keyPath = Path.Combine(keys, $"worker-{id}.key");
            if (File.Exists(keyPath))
            {
                File.Delete(keyPath);
            }

            lines.Add(WorkerKey.WriteKeyPair(id, keys));
        }

        var authorized = Path.Combine(outputDirectory, "authorized_keys");
        await File.WriteAllLinesAsync(authorized, lines, cancellationToken).ConfigureAwait(false);
        var configPath = Path.Combine(outputDirectory, "cluster.yaml");
        await File.WriteAllTextAsync(configPath, ConfigLoader.ToYaml(config), cancellationToken).ConfigureAwait(false);

        var port = FreeLoopbackPort();
        var url = $"http://127.0.0.1:{port}";
        using var server = Start(dstar, ["serve", "--config", configPath, "--listen", url, "--authorized-keys", authorized, "--insecure",
            "--out", outputDirectory, .. serverArguments ?? []], progress, "");
        var workers = new List<Process>();
        try
        {
            if (!await WaitHealthyAsync(url, server, cancellationToken).ConfigureAwait(false))
            {
                // The server said why on the output streamed above (a busy --view port, a corrupt checkpoint): its
                // exit code is the launch's, so that 3 still means an I/O or data error.
                progress.WriteLine($"the server exited with code {server.ExitCode} before it was healthy (see its output above); no worker was started");
                return server.ExitCode;
            }

            var c = System.Globalization.CultureInfo.InvariantCulture;
            for (var first = 0; first < config.Workers; first += perProcess)
            {
                int last = Math.Min(config.Workers, first + perProcess) - 1;
                string[] who = first == last
                    ? ["--id", first.ToString(c), "--key", Path.Combine(keys, $"worker-{first}.key")]
                    : ["--ids", string.Create(c, $"{first}-{last}"), "--key", keys];
                workers.Add(Start(dstar, ["work", "--server", url, .. who, "--config", configPath,
                    "--delay-scale", realTime.DelayScale.ToString("R", c),
                    "--compute-ms", realTime.ComputeMilliseconds.ToString(c)], progress, first == last ? $"[worker {first}] " : $"[workers {first}-{last}] "));
            }

            using var registration = cancellationToken.Register(() => Signal(server));
            await server.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            server.WaitForExit();
            return server.ExitCode;
        }
        finally
        {
            // Workers exit on their own when the server says Finished; stopped (or failed) early, they would retry a
            // server that is gone, so they are told to stop at once. Either way they share one grace period, then are
            // killed: the launcher must be done within the CLI's shutdown grace, or it would leave them orphaned.
            if (cancellationToken.IsCancellationRequested || !server.HasExited || server.ExitCode != 0)
            {
                workers.ForEach(Signal);
            }

            var grace = Stopwatch.StartNew();
            foreach (var worker in workers)
            {
                if (!worker.WaitForExit(Math.Max(0, WorkerGraceMilliseconds - (int)grace.ElapsedMilliseconds)))
                {
                    worker.Kill(entireProcessTree: true);
                    worker.WaitForExit();
                }

                worker.Dispose();
            }

            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>
    /// <c>--workers-per-process auto</c>: all N workers in one worker process (at most
    /// <see cref="ClusterWorker.MaxGroup"/>, so more than that take several). Measured on 2 cores (docs/benchmarks.md,
    /// "Workers per process"): each worker process beyond one costs memory (the demo's 20 workers peaked at 7.8 GB in 20
    /// processes, 0.86 GB in 2, 0.46 GB in 1) and time, since the cores switch between address spaces and each round's
    /// computation starts cold in every process (a logreg round of 8 workers: 2.8× the simulator's in 2 processes, 2.3×
    /// in 1). Torch runs each worker's gradient on that worker's own thread, so one process still uses every core.
    /// Separate processes buy only isolation: <c>1</c> gives it.
    /// </summary>
    public static int AutoWorkersPerProcess(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        return Math.Min(workers, ClusterWorker.MaxGroup);
    }

    /// <summary>How long the workers together get to exit once the server has, before they are killed.</summary>
    public const int WorkerGraceMilliseconds = 3000;

    /// <summary>How to run the current <c>dstar</c> again: its apphost, or <c>dotnet dstar.dll</c>.</summary>
    public static (string Executable, string[] Prefix) CurrentCommand()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the running executable to start the cluster processes.");
        var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && entry is { Length: > 0 } ? (process, [entry]) : (process, []);
    }

    /// <summary>A TCP port free on 127.0.0.1 right now.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Start((string Executable, string[] Prefix) dstar, string[] arguments, TextWriter progress, string prefix)
    {
        var info = new ProcessStartInfo(dstar.Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in dstar.Prefix.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Write(progress, prefix, e.Data);
        process.ErrorDataReceived += (_, e) => Write(progress, prefix, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Write(TextWriter progress, string prefix, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (progress)
        {
            progress.WriteLine(prefix + line);
        }
    }

    // True once /healthz answers; false when the server exited first.
    private static async Task<bool> WaitHealthyAsync(string url, Process server, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (server.HasExited)
            {
                server.WaitForExit();
                return false;
            }

            try
            {
                using var response = await http.GetAsync(url + "/healthz", cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException("the server did not answer /healthz within 60 s.");
    }

    // SIGTERM lets the server checkpoint; Process.Kill would send SIGKILL.
    private static void Signal(Process process)
    {
        if (!process.HasExited && !OperatingSystem.IsWindows())
        {
            Posix.Terminate(process.Id);
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using Dstar.Engine.Configuration;
using Dstar.Studies.Definition;

namespace Dstar.Studies.Sweep;

/// <summary>
/// Runs every unfinished run of a study with a pool of worker processes. Each process runs many runs one after
/// another; a process that dies fails only the run it held, and is replaced. Finished runs (a whole summary.json) are
/// skipped (unless the study's resilience estimates are missing: then only those are made), interrupted ones resume
/// from their checkpoint, failed ones are tried again. A run's results depend only on
/// its config, never on the pool size or the order runs are handed out.
/// </summary>
public static class StudySweep
{
    /// <summary>The lock file that keeps two sweeps out of one output directory.</summary>
    public const string LockFileName = ".sweep.lock";

    /// <summary>The log that collects the worker processes' error output.</summary>
    public const string WorkerLogName = "workers.log";

    /// <summary>
    /// Each worker process's share of <paramref name="cores"/> when <paramref name="parallel"/> of them run at once
    /// (at least 1): what <c>simulation.parallel: auto</c> spreads a run's gradients over, so that the sweep's processes
    /// and each run's threads together fill the cores without oversubscribing them.
    /// </summary>
    public static int CoresPerRun(int parallel, int cores) => Math.Max(1, cores / Math.Max(1, parallel));

    /// <summary>Runs <paramref name="plan"/> into <paramref name="outputDirectory"/> with <paramref name="parallel"/> worker processes.</summary>
    /// <exception cref="IOException">another sweep holds the directory, or a run directory holds another config: nothing ran.</exception>
    /// <exception cref="InvalidOperationException">no worker process can start.</exception>
    public static async Task<SweepOutcome> RunAsync(StudyPlan plan, string outputDirectory, int parallel, WorkerCommand worker, ISweepProgress progress, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(outputDirectory);
        using var guard = Lock(outputDirectory);

        var pending = new List<(StudyRun Run, string Directory, string Yaml)>();
        var conflicts = new List<string>();
        var damaged = new List<(StudyRun Run, string Problem)>();
        int skipped = 0;
        foreach (var run in plan.Runs)
        {
            var directory = Path.GetFullPath(Path.Combine(outputDirectory, run.RelativeDirectory));
            var yaml = ConfigLoader.ToYaml(run.Config);
            if (RunState.HoldsOtherConfig(directory, yaml))
            {
                conflicts.Add(run.RelativeDirectory);
            }
            else if (RunState.Check(directory, out var problem) == RunStatus.Finished
                && (plan.Study.Resilience is not { } resilience || CellResilience.IsCurrent(directory, resilience)))
            {
                skipped++;
            }
            else
            {
                pending.Add((run, directory, yaml));
                if (problem is not null)
                {
                    damaged.Add((run, problem));
                }
            }
        }

        if (conflicts.Count > 0)
        {
            throw new IOException($"{Path.Combine(outputDirectory, conflicts[0])}{(conflicts.Count > 1 ? $" and {conflicts.Count - 1} other run directories" : "")} hold a run of a different config (the study changed since): use another --out, or delete them");
        }

        // Only once the directory is known to hold no run of another study: the plan of the runs already there is
        // what dstar report and dstar view read.
        PlanFile.Write(plan, outputDirectory);

        int total = skipped + pending.Count;
        int cores = CoresPerRun(parallel, Environment.ProcessorCount);
        foreach (var (run, problem) in damaged)
        {
            progress.RunDamaged(run, problem);
        }

        progress.Begin(total, skipped, parallel);
        var queue = new ConcurrentQueue<(StudyRun Run, string Directory, string Yaml)>(pending);
        int finished = 0, failed = 0, started = 0;
        double startup = 0;
        var logLock = new object();
        using var log = new StreamWriter(Path.Combine(outputDirectory, WorkerLogName), append: true) { AutoFlush = true };
        void Log(string line)
        {
            lock (logLock)
            {
                log.WriteLine(line);
            }
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        async Task Slot()
        {
            WorkerProcess? process = null;
            try
            {
                while (queue.TryDequeue(out var item))
                {
                    stop.Token.ThrowIfCancellationRequested();
                    if (process is null)
                    {
                        process = await WorkerProcess.StartAsync(worker, Log, stop.Token).ConfigureAwait(false);
                        Interlocked.Increment(ref started);
                        lock (logLock)
                        {
                            startup += process.StartupSeconds;
                        }

                        progress.WorkerStarted(process.Id, process.StartupSeconds);
                    }

                    progress.RunStarted(item.Run, RunState.Check(item.Directory) == RunStatus.Resumable);
                    WorkerReport? report;
                    try
                    {
                        await process.SendAsync(new WorkerAssignment(item.Directory, item.Run.Name, item.Yaml, plan.Study.Resilience, cores)).ConfigureAwait(false);
                        report = await process.ReadAsync(stop.Token).ConfigureAwait(false);
                    }
                    catch (IOException)
                    {
                        report = null; // the process died before it took the assignment: the same as dying during the run
                    }

                    if (report is null)
                    {
                        var code = process.ExitCode();
                        var error = $"the worker process {process.Id} exited{(code is { } c ? $" with code {c}" : "")} during this run";
                        process.Dispose();
                        process = null;
                        RunState.RecordFailure(item.Directory, error);
                        Interlocked.Increment(ref failed);
                        progress.RunFailed(item.Run, error);
                    }
                    else if (report.Event == WorkerReport.Finished)
                    {
                        Interlocked.Increment(ref finished);
                        progress.RunFinished(item.Run, report.Seconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                        progress.RunFailed(item.Run, report.Error ?? "failed");
                    }
                }

                process?.Close();
            }
            catch
            {
                stop.Cancel();
                throw;
            }
            finally
            {
                process?.Dispose();
            }
        }

        bool cancelled = false;
        var slots = Enumerable.Range(0, Math.Max(1, Math.Min(parallel, pending.Count))).Select(_ => Task.Run(Slot)).ToArray();
        try
        {
            await Task.WhenAll(slots).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true;
        }
        catch (OperationCanceledException)
        {
            // Another slot failed and stopped the rest: report that failure, not the cancellation.
            throw slots.Select(s => s.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException) ?? new InvalidOperationException("the sweep stopped");
        }

        var outcome = new SweepOutcome(total, skipped, finished, failed, clock.Elapsed.TotalSeconds, startup, started, cancelled);
        progress.End(outcome);
        return outcome;
    }

    private static FileStream Lock(string directory)
    {
        try
        {
            return new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new IOException($"another dstar sweep is running in '{directory}' (it holds {LockFileName})");
        }
    }
}

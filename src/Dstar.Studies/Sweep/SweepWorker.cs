using System.Diagnostics;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;

namespace Dstar.Studies.Sweep;

/// <summary>
/// The loop of one worker process (<c>dstar sweep-worker</c>): reads <see cref="WorkerAssignment"/> lines from its
/// input, runs each with <see cref="CellRunner"/> (resuming from a checkpoint when the directory holds one), estimates
/// its resilience with <see cref="CellResilience"/> when the study asks for it, and writes a
/// <see cref="WorkerReport"/> line for each. When its input closes while a run is going (the sweep was
/// killed), it exits at once: the run is resumed by the next sweep.
/// </summary>
public static class SweepWorker
{
    /// <summary>Exit code when the sweep went away in the middle of a run.</summary>
    public const int Orphaned = 3;

    /// <summary>Serves assignments until <paramref name="input"/> ends; returns the exit code.</summary>
    public static int Serve(TextReader input, TextWriter reports)
    {
        var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var lines = new System.Collections.Concurrent.BlockingCollection<string?>();
        var busy = 0;
        var reader = new Thread(() =>
        {
            string? line;
            while ((line = input.ReadLine()) is not null)
            {
                lines.Add(line);
            }

            if (Volatile.Read(ref busy) == 1)
            {
                // The sweep is gone: leave now rather than finish a run that a new sweep will resume.
                Environment.Exit(Orphaned);
            }

            lines.Add(null);
        })
        { IsBackground = true, Name = "sweep-worker input" };
        reader.Start();

        Send(reports, new WorkerReport(WorkerReport.Ready, Seconds: (DateTime.UtcNow - started).TotalSeconds));
        while (lines.Take() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var assignment = WorkerMessages.Decode<WorkerAssignment>(line);
            if (assignment is null)
            {
                Send(reports, new WorkerReport(WorkerReport.Failed, Error: "not an assignment: " + line));
                continue;
            }

            Volatile.Write(ref busy, 1);
            Send(reports, Run(assignment));
            Volatile.Write(ref busy, 0);
        }

        return 0;
    }

    /// <summary>Runs one assignment; every failure becomes a <c>failed</c> report with a one-line error.</summary>
    public static WorkerReport Run(WorkerAssignment assignment)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var config = ConfigLoader.Load(assignment.Config);
            RunState.ClearFailure(assignment.Directory);
            var status = RunState.Check(assignment.Directory);
            bool resume = status == RunStatus.Resumable;
            // A finished run is sent again only for its resilience estimates (the study asked for them after it ran,
            // or a previous attempt stopped before writing them): the run itself is not repeated.
            if (status != RunStatus.Finished)
            {
                try
                {
                    CellRunner.RunAsync(config, assignment.Directory, assignment.Name, resume, CancellationToken.None, assignment.Cores).GetAwaiter().GetResult();
                }
                catch (CheckpointException) when (resume)
                {
                    // A checkpoint from which this run cannot continue: start it again from round 0.
                    File.Delete(Path.Combine(assignment.Directory, CheckpointFile.FileName));
                    resume = false;
                    CellRunner.RunAsync(config, assignment.Directory, assignment.Name, resume, CancellationToken.None, assignment.Cores).GetAwaiter().GetResult();
                }
            }

            if (assignment.Resilience is { } resilience && !CellResilience.IsCurrent(assignment.Directory, resilience))
            {
                try
                {
                    CellResilience.EstimateAsync(config, assignment.Directory, resilience, CancellationToken.None).GetAwaiter().GetResult();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new InvalidOperationException($"the run finished, but its resilience estimate failed: {e.GetType().Name}: {e.Message}", e);
                }
            }

            return new WorkerReport(WorkerReport.Finished, assignment.Directory, clock.Elapsed.TotalSeconds, resume);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var error = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ").Trim();
            try
            {
                RunState.RecordFailure(assignment.Directory, error);
            }
            catch (Exception io) when (io is IOException or UnauthorizedAccessException)
            {
                error += $" (and error.txt could not be written: {io.Message})";
            }

            return new WorkerReport(WorkerReport.Failed, assignment.Directory, clock.Elapsed.TotalSeconds, Error: error);
        }
    }

    private static void Send(TextWriter reports, WorkerReport report)
    {
        reports.WriteLine(WorkerMessages.Encode(report));
        reports.Flush();
    }
}

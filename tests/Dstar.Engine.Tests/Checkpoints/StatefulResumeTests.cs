using System.Buffers.Binary;
using System.Security.Cryptography;
using Dstar.Core;
using Dstar.Core.Aggregation;
using Dstar.Core.Attacks;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Configuration;
using Dstar.Engine.Running;
using Dstar.Engine.Simulation;
using Xunit;

namespace Dstar.Engine.Tests.Checkpoints;

/// <summary>
/// Runs whose components keep state between rounds (<c>k: auto</c>'s window, dstar's reputation, worker momentum):
/// stopped half-way and resumed from the checkpoint, they end with exactly the rows of an uninterrupted run.
/// </summary>
public class StatefulResumeTests
{
    private const int Rounds = 24;

    private static ExperimentConfig AutoK => Scenarios.Logistic(workers: 12, rounds: Rounds) with
    {
        AutoK = true,
        Delay = "pareto xm=1 alpha=1.5",
        CheckpointEvery = Rounds / 2,
    };

    private static ExperimentConfig Reputation => Scenarios.Logistic(workers: 12, k: 8, rounds: Rounds) with
    {
        Aggregator = "dstar reputation=0.8 exclude=0.5 probation=3",
        Delay = "shifted-exp shift=1 rate=1",
        Byzantine = 3,
        Attack = "ipm epsilon=100",
        CheckpointEvery = Rounds / 2,
    };

    private static ExperimentConfig Momentum => Scenarios.Logistic(workers: 12, k: 7, rounds: Rounds) with
    {
        WorkerMomentum = 0.9,
        Delay = "pareto xm=1 alpha=1.5",
        Aggregator = "dstar",
        Byzantine = 2,
        Attack = "sign-flip",
        CheckpointEvery = Rounds / 2,
    };

    private static ExperimentConfig All => Reputation with
    {
        Byzantine = 1,
        AutoK = true,
        KMax = 12,
        WorkerMomentum = 0.5,
        Delay = "lognormal mu=0 sigma=1",
    };

    public static TheoryData<string> Configs => new() { nameof(AutoK), nameof(Reputation), nameof(Momentum), nameof(All) };

    private static ExperimentConfig Named(string name) => name switch
    {
        nameof(AutoK) => AutoK,
        nameof(Reputation) => Reputation,
        nameof(Momentum) => Momentum,
        _ => All,
    };

    private static async Task<string> Straight(ExperimentConfig config)
    {
        var directory = Scenarios.TemporaryDirectory();
        using var sim = new Simulator(config);
        await sim.RunAsync(directory, plots: false);
        return directory;
    }

    /// <summary>metrics.csv without its wall_time column.</summary>
    private static string[] CsvRows(string directory)
    {
        var lines = File.ReadAllLines(Path.Combine(directory, "metrics.csv"));
        int column = Array.IndexOf(lines[0].Split(','), "wall_time");
        return lines.Select(line =>
        {
            var cells = line.Split(',').ToList();
            cells.RemoveAt(column);
            return string.Join(',', cells);
        }).ToArray();
    }

    private static void AssertSameRows(string straight, string resumed)
    {
        Assert.Equal(CsvRows(straight), CsvRows(resumed));
        Assert.Equal(Scenarios.MetricsWithoutWallTime(straight), Scenarios.MetricsWithoutWallTime(resumed));
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public async Task Stopped_half_way_and_resumed_gives_the_rows_of_an_uninterrupted_run(string name)
    {
        var config = Named(name);
        var straight = await Straight(config);

        var directory = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(config))
        {
            Assert.Null(await sim.RunAsync(directory, stopAfterRound: Rounds / 2, plots: false));
        }

        Assert.Equal(Rounds / 2, CheckpointFile.Load(Path.Combine(directory, CheckpointFile.FileName)).Round);
        using (var sim = new Simulator(config))
        {
            await sim.RunAsync(directory, resume: true, plots: false);
            Assert.Equal(Rounds, sim.Server.Version);
        }

        AssertSameRows(straight, directory);
    }

    [Fact]
    public async Task Worker_momenta_saved_by_a_parallel_simulation_resume_a_serial_one_exactly()
    {
        // simulation.parallel may change on resume: the momenta folded in on P threads are the serial ones.
        var straight = await Straight(Momentum);
        var directory = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(Momentum with { SimulationParallel = 3 }))
        {
            await sim.RunAsync(directory, stopAfterRound: Rounds / 2, plots: false);
        }

        using (var sim = new Simulator(Momentum with { SimulationParallel = 1 }))
        {
            await sim.RunAsync(directory, resume: true, plots: false);
        }

        AssertSameRows(straight, directory);
    }

    [Fact]
    public async Task The_state_saved_is_the_state_that_matters()
    {
        // Each component's state changes what happens after the checkpoint: k: auto has left its start, dstar has
        // excluded a Byzantine worker, and worker momentum has a value for the workers that answered.
        var directory = Scenarios.TemporaryDirectory();
        using var sim = new Simulator(All);
        await sim.RunAsync(directory, stopAfterRound: Rounds / 2, plots: false);
        var rows = Dstar.Engine.Recording.MetricsFiles.Read(directory, Rounds / 2);
        Assert.Contains(rows, r => r.K != sim.Server.AdaptiveK!.Start);
        Assert.Contains(rows, r => r.Dropped.Any(d => d.Reason == Dstar.Engine.Collection.DropReason.Excluded));

        var checkpoint = CheckpointFile.Load(Path.Combine(directory, CheckpointFile.FileName));
        Assert.Equal(
            [CheckpointSectionKind.AutoK, CheckpointSectionKind.Reputation, CheckpointSectionKind.WorkerMomentum],
            checkpoint.Sections!.Select(s => s.Kind).Order());
    }

    [Fact]
    public async Task Interrupted_in_the_middle_of_a_round_with_worker_momentum_resumes_exactly()
    {
        // The attack cancels the run while round 9 is being collected, after some workers folded round 9's gradient
        // into their momentum: the checkpoint must hold the momenta as they were before round 9.
        var config = Momentum with { CheckpointEvery = 0 };
        var straight = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(config, overrides: new SimulatorOverrides { Attack = new CancellingSignFlip(null, 0) }))
        {
            await sim.RunAsync(straight, plots: false);
        }

        var directory = Scenarios.TemporaryDirectory();
        using (var cancel = new CancellationTokenSource())
        using (var sim = new Simulator(config, overrides: new SimulatorOverrides { Attack = new CancellingSignFlip(cancel, 9) }))
        {
            var result = await sim.RunAsync(new RunOptions { Directory = directory, Plots = false }, cancel.Token);
            Assert.Equal(RunEnd.Interrupted, result.End);
            Assert.Equal(9, result.Rounds);
            Assert.True(sim.Transport.GradientsComputed > 0);
        }

        using (var sim = new Simulator(config, overrides: new SimulatorOverrides { Attack = new CancellingSignFlip(null, 0) }))
        {
            await sim.RunAsync(new RunOptions { Directory = directory, Mode = RunDirectoryMode.Resume, Plots = false });
        }

        AssertSameRows(straight, directory);
    }

    [Fact]
    public async Task An_older_checkpoint_still_resumes_a_run_without_component_state()
    {
        var config = Scenarios.Logistic(rounds: 12) with { CheckpointEvery = 6, Momentum = 0.9, LearningRate = 0.1, Delay = "lognormal mu=0 sigma=1" };
        var straight = await Straight(config);
        var directory = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(config))
        {
            await sim.RunAsync(directory, stopAfterRound: 6, plots: false);
        }

        var path = Path.Combine(directory, CheckpointFile.FileName);
        File.WriteAllBytes(path, AsFormatOne(File.ReadAllBytes(path)));
        Assert.Equal(1, CheckpointFile.Load(path).Format);
        using (var sim = new Simulator(config))
        {
            await sim.RunAsync(directory, resume: true, plots: false);
        }

        AssertSameRows(straight, directory);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public async Task An_older_checkpoint_without_the_state_a_run_needs_is_refused_and_nothing_is_lost(string name)
    {
        var config = Named(name);
        var directory = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(config))
        {
            await sim.RunAsync(directory, stopAfterRound: Rounds / 2, plots: false);
        }

        var path = Path.Combine(directory, CheckpointFile.FileName);
        var formatOne = AsFormatOne(WithoutSections(File.ReadAllBytes(path)));
        File.WriteAllBytes(path, formatOne);
        var metrics = File.ReadAllBytes(Path.Combine(directory, "metrics.jsonl"));

        using var again = new Simulator(config);
        var e = await Assert.ThrowsAsync<CheckpointException>(() => again.RunAsync(directory, resume: true, plots: false));
        Assert.Contains("older dstar", e.Message);
        Assert.Contains("format 1", e.Message);
        Assert.Equal(formatOne, File.ReadAllBytes(path));
        Assert.Equal(metrics, File.ReadAllBytes(Path.Combine(directory, "metrics.jsonl")));
    }

    [Fact]
    public async Task A_section_that_does_not_fit_the_run_is_refused_by_name_and_nothing_is_lost()
    {
        var directory = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(All))
        {
            await sim.RunAsync(directory, stopAfterRound: Rounds / 2, plots: false);
        }

        var path = Path.Combine(directory, CheckpointFile.FileName);
        var saved = CheckpointFile.Load(path);

        // A well-formed file (its checksum matches) whose reputation section is cut short.
        var sections = saved.Sections!.Select(s => s.Kind == CheckpointSectionKind.Reputation ? s with { Payload = s.Payload[..^3] } : s).ToArray();
        CheckpointFile.Save(path, saved with { Sections = sections });
        var bytes = File.ReadAllBytes(path);
        using (var sim = new Simulator(All))
        {
            var e = await Assert.ThrowsAsync<CheckpointException>(() => sim.RunAsync(directory, resume: true, plots: false));
            Assert.Contains("reputation", e.Message);
            Assert.Contains("inconsistent", e.Message);
            Assert.Equal(0, sim.Server.Version);
        }

        Assert.Equal(bytes, File.ReadAllBytes(path));

        // A section of a component this run does not have (a changed config is refused before, by ResumeRules).
        CheckpointFile.Save(path, saved);
        using (var sim = new Simulator(All with { WorkerMomentum = 0 }))
        {
            var e = Assert.Throws<CheckpointException>(() => RunCheckpoints.Resume(path, null, sim.Server, All.Seed, "", CheckpointParts.Of(sim.Server)));
            Assert.Contains("does not use", e.Message);
            Assert.Equal(0, sim.Server.Version);
        }
    }

    [Fact]
    public async Task A_flipped_bit_in_a_section_is_reported_as_corruption()
    {
        var directory = Scenarios.TemporaryDirectory();
        using (var sim = new Simulator(AutoK))
        {
            await sim.RunAsync(directory, stopAfterRound: Rounds / 2, plots: false);
        }

        var path = Path.Combine(directory, CheckpointFile.FileName);
        var bytes = File.ReadAllBytes(path);
        bytes[^(SHA256.HashSizeInBytes + 20)] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointException>(() => CheckpointFile.Load(path));
        Assert.Contains("corrupt", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public void Sections_round_trip_and_a_repeated_kind_is_refused()
    {
        var path = Path.Combine(Scenarios.TemporaryDirectory(), CheckpointFile.FileName);
        var sections = new[] { new CheckpointSection(CheckpointSectionKind.Reputation, [1, 2, 3]), new CheckpointSection(CheckpointSectionKind.AutoK, []) };
        CheckpointFile.Save(path, new Checkpoint(3, 1, 2.0, [1f], [0f], false, null, sections));
        var loaded = CheckpointFile.Load(path);
        Assert.Equal(CheckpointFile.FormatVersion, loaded.Format);
        Assert.Equal(sections.Select(s => (s.Kind, string.Join(",", s.Payload))), loaded.Sections!.Select(s => (s.Kind, string.Join(",", s.Payload))));

        Assert.Throws<ArgumentException>(() => CheckpointFile.Save(path, new Checkpoint(3, 1, 2.0, [1f], [0f], false, null, [sections[0], sections[0]])));
        Assert.Equal(3, CheckpointFile.Load(path).Round);
    }

    /// <summary>A format-2 checkpoint with its sections removed (count 0), checksum recomputed.</summary>
    private static byte[] WithoutSections(byte[] bytes)
    {
        var checkpoint = CheckpointFileBytes(bytes);
        var path = Path.Combine(Scenarios.TemporaryDirectory(), CheckpointFile.FileName);
        CheckpointFile.Save(path, checkpoint with { Sections = [] });
        return File.ReadAllBytes(path);
    }

    private static Checkpoint CheckpointFileBytes(byte[] bytes)
    {
        var path = Path.Combine(Scenarios.TemporaryDirectory(), CheckpointFile.FileName);
        File.WriteAllBytes(path, bytes);
        return CheckpointFile.Load(path);
    }

    /// <summary>
    /// The format-1 file an older dstar wrote for the same state: format 2 without sections, less the section count,
    /// with format 1 in its header and its checksum recomputed.
    /// </summary>
    private static byte[] AsFormatOne(byte[] formatTwo)
    {
        var body = formatTwo[..^(SHA256.HashSizeInBytes + 4)];
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(formatTwo.AsSpan(formatTwo.Length - SHA256.HashSizeInBytes - 4)));
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(8), 1);
        return [.. body, .. SHA256.HashData(body)];
    }

    /// <summary>Sign-flip of the honest mean that cancels the run while it crafts round <c>cancelAt</c>.</summary>
    private sealed class CancellingSignFlip(CancellationTokenSource? cancel, int cancelAt) : IAttack
    {
        private readonly SignFlip _inner = new();
        private int _crafted;

        public string Name => "sign-flip";

        public bool IsOmniscient => _inner.IsOmniscient;

        public void Craft(GradientBatch honest, AttackContext context, GradientBatch byzantine)
        {
            if (cancel is not null && _crafted++ == cancelAt)
            {
                cancel.Cancel();
            }

            _inner.Craft(honest, context, byzantine);
        }
    }
}

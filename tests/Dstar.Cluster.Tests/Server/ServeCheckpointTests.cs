using System.Net;
using System.Net.Sockets;
using Dstar.Cluster.Server;
using Dstar.Engine.Checkpoints;
using Dstar.Engine.Simulation;

namespace Dstar.Cluster.Tests.Server;

/// <summary>
/// A checkpoint <c>dstar serve</c> cannot use is refused before the server listens or says it serves: the user sees
/// one error naming the file, and the run directory is left exactly as it was.
/// </summary>
[Trait("Category", "Cluster")]
public class ServeCheckpointTests
{
    private static readonly string Config = ClusterFixture.Yaml(workers: 3, k: 2, rounds: 4, checkpointEvery: 2, samples: 300, features: 3);

    [Fact]
    public async Task A_corrupt_checkpoint_is_refused_before_the_server_listens()
    {
        using var fixture = await FinishedRunAsync();
        var before = Corrupt(fixture.CheckpointPath);

        // The listen port is taken: a server that tried to listen before reading its checkpoint would fail on the port instead.
        using var busy = new TcpListener(IPAddress.Loopback, fixture.Port);
        busy.Start();
        var e = await Assert.ThrowsAsync<CheckpointException>(() => ClusterServer.RunAsync(new ServerSettings
        {
            Config = fixture.Config with { Rounds = 6 },
            Listen = fixture.Url,
            AuthorizedKeysPath = fixture.AuthorizedKeysPath,
            Insecure = true,
            OutputDirectory = fixture.RunDirectory,
            Resume = true,
            Plots = false,
        }, TextWriter.Null));
        Assert.Contains(fixture.CheckpointPath, e.Message);
        Assert.Contains("corrupt", e.Message);
        Assert.Equal(before, Snapshot(fixture.RunDirectory));
    }

    [Fact]
    public async Task A_new_run_whose_checkpoint_dir_holds_a_checkpoint_is_refused_before_the_server_listens()
    {
        using var fixture = await FinishedRunAsync();
        using var busy = new TcpListener(IPAddress.Loopback, fixture.Port);
        busy.Start();
        var e = await Assert.ThrowsAsync<IOException>(() => ClusterServer.RunAsync(new ServerSettings
        {
            Config = fixture.Config,
            Listen = fixture.Url,
            AuthorizedKeysPath = fixture.AuthorizedKeysPath,
            Insecure = true,
            CheckpointDirectory = fixture.RunDirectory,
            OutputDirectory = Path.Combine(fixture.Directory, "new-run"),
            Plots = false,
        }, TextWriter.Null));
        Assert.Equal($"{fixture.CheckpointPath} already exists; pass --resume to continue its run, or move it away", e.Message);
    }

    [Fact]
    public async Task Serve_resume_on_a_corrupt_checkpoint_prints_only_the_error_naming_the_file()
    {
        using var fixture = await FinishedRunAsync();
        var before = Corrupt(fixture.CheckpointPath);

        // With --view too: the view starts only once the checkpoint has been accepted.
        var view = $"http://127.0.0.1:{Dstar.Cluster.Launch.ClusterLauncher.FreeLoopbackPort()}";
        using var serve = DstarProcess.Start([.. fixture.ServeArguments(resume: true), "--set", "rounds=6", "--view", view]);
        Assert.Equal(3, await serve.WaitAsync(TimeSpan.FromSeconds(60)));
        var line = Assert.Single(serve.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"dstar serve: {fixture.CheckpointPath} is corrupt", line);
        Assert.Equal(before, Snapshot(fixture.RunDirectory));
    }

    /// <summary>A fixture whose run directory holds the simulator's finished 4-round run, checkpoints included.</summary>
    private static async Task<ClusterFixture> FinishedRunAsync()
    {
        var fixture = new ClusterFixture(Config);
        using var simulator = new Simulator(fixture.Config);
        await simulator.RunAsync(fixture.RunDirectory, plots: false);
        Assert.True(File.Exists(fixture.CheckpointPath));
        return fixture;
    }

    /// <summary>Flips one bit in the middle of <paramref name="checkpoint"/>; returns the run directory's files as they then are.</summary>
    private static Dictionary<string, byte[]> Corrupt(string checkpoint)
    {
        var bytes = File.ReadAllBytes(checkpoint);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(checkpoint, bytes);
        return Snapshot(Path.GetDirectoryName(checkpoint)!);
    }

    private static Dictionary<string, byte[]> Snapshot(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(directory, f), File.ReadAllBytes);
}

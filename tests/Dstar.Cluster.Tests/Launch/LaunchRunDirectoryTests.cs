using Dstar.Cluster.Configuration;
using Dstar.Cluster.Launch;
using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;

namespace Dstar.Cluster.Tests.Launch;

public class LaunchRunDirectoryTests
{
    [Fact]
    public async Task Launch_on_a_folder_holding_a_run_is_refused_without_suggesting_a_resume_it_lacks_and_changes_no_file()
    {
        var config = ConfigLoader.Load(ClusterFixture.Yaml(workers: 3, k: 3, rounds: 4, checkpointEvery: 2, samples: 300));
        var directory = Path.Combine(Path.GetTempPath(), "dstar-launch-dir-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var simulator = new Simulator(config))
            {
                await simulator.RunAsync(directory, plots: false);
            }

            var before = Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

            // No process is started: the refusal comes first (the command given is never run).
            var e = await Assert.ThrowsAsync<IOException>(() => ClusterLauncher.RunAsync(config, new RealTimeOptions(), directory, ("/nonexistent/dstar", []), TextWriter.Null));
            Assert.Equal($"{directory} already holds a run (finished); dstar launch does not resume runs (dstar serve --resume does, with its cluster.yaml and "
                         + $"authorized_keys): pass --overwrite to move it aside to {directory}.old-TIMESTAMP, or another --out", e.Message);
            Assert.Equal(before, Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes));
            Assert.False(Directory.Exists(Path.Combine(directory, "keys")));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_server_that_exits_before_it_is_healthy_gives_launch_its_exit_code_and_no_worker_starts()
    {
        // The view's port is taken: the server refuses it as an I/O error (3) before it serves, and so must launch.
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 2, k: 2, rounds: 3, samples: 300));
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        var view = $"http://127.0.0.1:{((System.Net.IPEndPoint)busy.LocalEndpoint).Port}";
        var directory = Path.Combine(fixture.Directory, "run");

        using var launch = DstarProcess.Start(["launch", "--config", fixture.ConfigPath, "--out", directory, "--delay-scale", "0", "--view", view]);
        var code = await launch.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == 3, launch.Output);
        Assert.Contains("before it was healthy (see its output above); no worker was started", launch.Output);
        Assert.DoesNotContain("[worker", launch.Output);
    }
}

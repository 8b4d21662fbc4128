using Dstar.Cluster.Server;
using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;

namespace Dstar.Cluster.Tests.Server;

public class ServeRunDirectoryTests
{
    [Fact]
    public async Task Serve_on_a_finished_run_without_flags_is_refused_and_changes_no_file()
    {
        var config = ConfigLoader.Load(ClusterFixture.Yaml(workers: 3, k: 3, rounds: 4, checkpointEvery: 2, samples: 300));
        var directory = Path.Combine(Path.GetTempPath(), "dstar-serve-dir-" + Guid.NewGuid().ToString("N"));
        var keysDirectory = directory + "-keys";
        try
        {
            using (var simulator = new Simulator(config))
            {
                await simulator.RunAsync(directory, plots: false);
            }

            // Real keys for every worker, outside the run directory, so that the refusal comes from the run directory.
            var keysPath = Path.Combine(keysDirectory, "authorized_keys");
            File.WriteAllLines(keysPath, Enumerable.Range(0, config.Workers).Select(w => Dstar.Cluster.Security.WorkerKey.WriteKeyPair(w, keysDirectory)).ToArray());
            var before = Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
            var settings = new ServerSettings
            {
                Config = config,
                Listen = "http://127.0.0.1:1",
                Insecure = true,
                AuthorizedKeysPath = keysPath,
                OutputDirectory = directory,
            };

            var e = await Assert.ThrowsAsync<IOException>(() => ClusterServer.RunAsync(settings, TextWriter.Null));
            Assert.Contains("already holds a run (finished)", e.Message);
            Assert.Equal(before, Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes));
        }
        finally
        {
            foreach (var folder in new[] { directory, keysDirectory })
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        }
    }
}

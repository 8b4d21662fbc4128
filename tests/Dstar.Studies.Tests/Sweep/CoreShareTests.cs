using Dstar.Engine.Configuration;
using Dstar.Engine.Simulation;
using Dstar.Studies.Sweep;

namespace Dstar.Studies.Tests.Sweep;

/// <summary>A sweep divides the cores between its worker processes, and a run's simulation.parallel: auto uses its share.</summary>
public class CoreShareTests
{
    [Theory]
    [InlineData(2, 2, 1)]
    [InlineData(1, 2, 2)]
    [InlineData(3, 2, 1)]
    [InlineData(4, 32, 8)]
    [InlineData(32, 32, 1)]
    public void Each_worker_process_gets_its_share_of_the_cores_and_auto_uses_it(int parallel, int cores, int expected)
    {
        int share = StudySweep.CoresPerRun(parallel, cores);
        Assert.Equal(expected, share);
        // The default (--parallel = the cores) leaves one gradient thread per run: processes × threads = cores.
        var config = new ExperimentConfig { Workers = 20, Model = "small-cnn" };
        Assert.Equal(expected, SimulationParallelism.Resolve(config, share));
        Assert.True(parallel * SimulationParallelism.Resolve(config, share) <= Math.Max(cores, parallel));
    }

    [Fact]
    public void The_share_reaches_the_worker_process_in_its_assignment()
    {
        var line = WorkerMessages.Encode(new WorkerAssignment("/d", "n", "rounds: 1\n", Cores: 3));
        Assert.Contains("\"cores\":3", line);
        Assert.Equal(3, WorkerMessages.Decode<WorkerAssignment>(line)!.Cores);
        Assert.Null(WorkerMessages.Decode<WorkerAssignment>("{\"directory\":\"/d\",\"name\":\"n\",\"config\":\"\"}")!.Cores);
    }
}

using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Dstar.Learning.Data;
using Dstar.Learning.Models;
using Dstar.Learning.Oracle;
using TorchSharp;
using static TorchSharp.torch;

namespace Dstar.Benchmarks;

/// <summary>
/// The gradient oracle against a plain TorchSharp step on the same model (small-cnn, 184,586 parameters) and batch
/// size (32) on the bundled Fashion-MNIST sample. "Plain" is what a TorchSharp training loop does per step to get a
/// gradient: zero the gradients, forward, cross-entropy, backward, on a batch already in a tensor. "Oracle" adds
/// everything the oracle does for a worker: write θ from a flat span into the model, assemble the minibatch from
/// sample indices into the input tensor, and copy every gradient into a flat span.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class OracleBenchmarks
{
    private OracleRig _rig = null!;

    /// <summary>Builds both models and the data.</summary>
    [GlobalSetup]
    public void Setup() => _rig = new OracleRig();

    /// <summary>Releases the models.</summary>
    [GlobalCleanup]
    public void Cleanup() => _rig.Dispose();

    /// <summary>zero_grad, forward, loss, backward.</summary>
    [Benchmark(Baseline = true)]
    public float PlainTorchSharpStep() => _rig.PlainStep();

    /// <summary>SetParameters + ComputeGradient into a flat span.</summary>
    [Benchmark]
    public double OracleGradient() => _rig.OracleStep();
}

/// <summary>
/// The same comparison with a Stopwatch, interleaving blocks of plain and oracle steps so that both see the same
/// machine load: <c>dotnet run -c Release --project bench/Dstar.Benchmarks -- oracle-stopwatch [rounds] [steps]</c>.
/// </summary>
public static class OracleStopwatch
{
    /// <summary>Runs rounds of plain and oracle steps after a warm-up and prints medians and the ratio.</summary>
    public static void Run(int rounds = 20, int stepsPerBlock = 25)
    {
        using var rig = new OracleRig();
        for (int i = 0; i < 20; i++)
        {
            rig.PlainStep();
            rig.OracleStep();
        }

        // Wall time per step, and process CPU time per step: on a shared machine the CPU time is the steadier measure
        // of the work done (with one torch thread the process's CPU time is that thread's work).
        var plain = new double[rounds];
        var oracle = new double[rounds];
        var plainCpu = new double[rounds];
        var oracleCpu = new double[rounds];
        var process = Process.GetCurrentProcess();
        for (int r = 0; r < rounds; r++)
        {
            (plain[r], plainCpu[r]) = Block(process, stepsPerBlock, () => rig.PlainStep());
            (oracle[r], oracleCpu[r]) = Block(process, stepsPerBlock, () => rig.OracleStep());
        }

        Console.WriteLine($"small-cnn, batch 32, torch threads {TorchThreads.Count}, {rounds} rounds × {stepsPerBlock} steps, per step:");
        Console.WriteLine($"plain TorchSharp step: wall median {Median(plain):F2} ms (min {plain.Min():F2}), CPU median {Median(plainCpu):F2} ms");
        Console.WriteLine($"oracle gradient:       wall median {Median(oracle):F2} ms (min {oracle.Min():F2}), CPU median {Median(oracleCpu):F2} ms");
        Console.WriteLine($"ratio oracle/plain:    wall median {Median(oracle) / Median(plain):F3}, wall min/min {oracle.Min() / plain.Min():F3}, CPU median {Median(oracleCpu) / Median(plainCpu):F3}");

        // The oracle's own additions, timed alone: θ in and a flat copy out (the same size as the gradient copy).
        const int copies = 500;
        var (copyWall, _) = Block(process, copies, rig.CopyInAndOut);
        Console.WriteLine($"flat copies (SetParameters + GetParameters): {copyWall * 1000:F0} µs per step = {copyWall / Median(plain):P2} of a plain step");
    }

    private static (double WallMilliseconds, double CpuMilliseconds) Block(Process process, int steps, Action step)
    {
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            step();
        }

        double wall = clock.Elapsed.TotalMilliseconds / steps;
        process.Refresh();
        return (wall, (process.TotalProcessorTime - cpu).TotalMilliseconds / steps);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}

/// <summary>Two identical small-cnn models (same seed), one plain and one inside an oracle, and a fixed batch stream.</summary>
internal sealed class OracleRig : IDisposable
{
    private const int BatchSize = 32;
    private readonly nn.Module<Tensor, Tensor> _plainModel;
    private readonly TorchGradientOracle _oracle;
    private readonly Tensor _input;
    private readonly Tensor _labels;
    private readonly float[] _theta;
    private readonly float[] _gradient;
    private readonly int[] _batch = new int[BatchSize];
    private readonly int _trainCount;
    private int _cursor;

    public OracleRig()
    {
        TorchThreads.Configure();
        var data = DatasetCatalog.Load("fashion-mnist", DataLocator.BundledSampleCandidates().First(Directory.Exists));
        _trainCount = data.Train.Count;
        var definition = ModelCatalog.Create("small-cnn");
        _plainModel = definition.Build(data.Train.SampleShape, 10, seed: 1);
        _oracle = new TorchGradientOracle(definition.Build(data.Train.SampleShape, 10, seed: 1), data.Train, data.Test);
        _theta = new float[_oracle.ParameterCount];
        _gradient = new float[_oracle.ParameterCount];
        _oracle.GetParameters(_theta);

        var features = new float[BatchSize * data.Train.FeatureCount];
        var labels = new long[BatchSize];
        for (int i = 0; i < BatchSize; i++)
        {
            data.Train.WriteFeatures(i, features.AsSpan(i * data.Train.FeatureCount, data.Train.FeatureCount));
            labels[i] = data.Train.Labels[i];
        }

        _input = torch.tensor(features, [BatchSize, 1, 28, 28]);
        _labels = torch.tensor(labels);
        _plainModel.train();
    }

    public float PlainStep()
    {
        using var scope = torch.NewDisposeScope();
        _plainModel.zero_grad();
        var loss = nn.functional.cross_entropy(_plainModel.forward(_input), _labels);
        loss.backward();
        return loss.item<float>();
    }

    public double OracleStep()
    {
        for (int i = 0; i < BatchSize; i++)
        {
            _batch[i] = _cursor;
            _cursor = (_cursor + 1) % _trainCount;
        }

        _oracle.SetParameters(_theta);
        return _oracle.ComputeGradient(_batch, _gradient);
    }

    public void CopyInAndOut()
    {
        _oracle.SetParameters(_theta);
        _oracle.GetParameters(_gradient);
    }

    public void Dispose()
    {
        _input.Dispose();
        _labels.Dispose();
        _plainModel.Dispose();
        _oracle.Dispose();
    }
}

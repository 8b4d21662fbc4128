using BenchmarkDotNet.Running;

if (args is ["oracle-stopwatch", ..])
{
    Dstar.Benchmarks.OracleStopwatch.Run(args.Length > 1 ? int.Parse(args[1]) : 20, args.Length > 2 ? int.Parse(args[2]) : 25);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

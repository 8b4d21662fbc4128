using BenchmarkDotNet.Running;
using Dstar.Benchmarks;

// "quick-coordinate [repeats] [threads]": a short Stopwatch run of the coordinate rules (see CoordinateRulesBenchmarks).
if (args is ["quick-coordinate", ..])
{
    CoordinateRulesBenchmarks.QuickRatios(args.Length > 1 ? int.Parse(args[1]) : 15, args.Length > 2 ? int.Parse(args[2]) : 1);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

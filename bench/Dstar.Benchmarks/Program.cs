using BenchmarkDotNet.Running;
using Dstar.Benchmarks;

// "quick-coordinate [repeats] [threads] [rows,rows]": a short Stopwatch run of the coordinate rules (see CoordinateRulesBenchmarks).
if (args is ["quick-coordinate", ..])
{
    // DSTAR_PREFETCH_FLOATS overrides the software prefetch distance (0 = off), for tuning it on a given machine.
    using var prefetch = int.TryParse(Environment.GetEnvironmentVariable("DSTAR_PREFETCH_FLOATS"), out int prefetchFloats)
        ? Dstar.Core.Kernels.KernelSettings.Override(prefetchFloats: prefetchFloats)
        : null;
    CoordinateRulesBenchmarks.QuickRatios(
        args.Length > 1 ? int.Parse(args[1]) : 15,
        args.Length > 2 ? int.Parse(args[2]) : 1,
        rowCounts: args.Length > 3 ? args[3].Split(',').Select(int.Parse).ToArray() : null);
    return;
}

// "quick-pairwise [repeats] [rules] [rows] [dimension]": a short Stopwatch run of the pairwise rules at f = 3, one
// thread (see PairwiseRulesBenchmarks.QuickRatios); rules is a comma-separated filter such as "multi-krum,nnm" or "all".
if (args is ["quick-pairwise", ..])
{
    string? only = args.Length > 2 && args[2] != "all" ? args[2] : null;
    Console.Write(PairwiseRulesBenchmarks.QuickRatios(
        rows: args.Length > 3 ? int.Parse(args[3]) : 16,
        dimension: args.Length > 4 ? int.Parse(args[4]) : 1_000_000,
        repeats: args.Length > 1 ? int.Parse(args[1]) : 15,
        only: only));
    return;
}

if (args is ["pairwise-parts", ..])
{
    PairwiseParts.Run(args.Length > 1 ? int.Parse(args[1]) : 15);
    return;
}

// "two-pass-parts [repeats] [rows] [dimension]": the passes of dSTAR and centered clipping timed apart (see TwoPassParts).
if (args is ["two-pass-parts", ..])
{
    using var prefetch = int.TryParse(Environment.GetEnvironmentVariable("DSTAR_PREFETCH_FLOATS"), out int prefetchFloats)
        ? Dstar.Core.Kernels.KernelSettings.Override(prefetchFloats: prefetchFloats)
        : null;
    TwoPassParts.Run(
        args.Length > 1 ? int.Parse(args[1]) : 21,
        args.Length > 2 ? int.Parse(args[2]) : 16,
        args.Length > 3 ? int.Parse(args[3]) : 1_000_000);
    return;
}

// "dstar-plus-parts [repeats] [rows] [dimension]": the steps of dSTAR with our checks timed apart (see DstarPlusParts).
if (args is ["dstar-plus-parts", ..])
{
    DstarPlusParts.Run(
        args.Length > 1 ? int.Parse(args[1]) : 11,
        args.Length > 2 ? int.Parse(args[2]) : 16,
        args.Length > 3 ? int.Parse(args[3]) : 1_000_000);
    return;
}

if (args is ["oracle-stopwatch", ..])
{
    Dstar.Benchmarks.OracleStopwatch.Run(args.Length > 1 ? int.Parse(args[1]) : 20, args.Length > 2 ? int.Parse(args[2]) : 25);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

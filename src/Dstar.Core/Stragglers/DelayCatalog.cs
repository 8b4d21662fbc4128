using Dstar.Core.Specs;

namespace Dstar.Core.Stragglers;

/// <summary>The registry entries of every delay model; each reads its parameters with their defaults.</summary>
internal static class DelayCatalog
{
    public static IEnumerable<CatalogEntry<IDelayModel>> Entries =>
    [
        new("shifted-exp", "speed·(a + Exp(λ)) [shift=1] [rate=1] [speeds=s0,s1,…]",
            a => ParameterChecks.Build(() => new ShiftedExponential(
                a.Double("shift", 1),
                a.Double("rate", 1),
                a.Text("speeds") is { } speeds ? ParameterChecks.Numbers(a, "speeds", speeds) : null))),
        new("pareto", "x_m·U^(−1/α), heavy tail [xm=1] [alpha=1.5]",
            a => ParameterChecks.Build(() => new Pareto(a.Double("xm", 1), a.Double("alpha", 1.5)))),
        new("lognormal", "exp(μ + σZ) [mu=0] [sigma=1]",
            a => ParameterChecks.Build(() => new LogNormal(a.Double("mu", 0), a.Double("sigma", 1)))),
        new("bimodal", "base, or base·slowdown for a fraction p of workers [p=0.2] [slowdown=10] [base=1] [persistent=true] [seed=0]",
            a => ParameterChecks.Build(() => new Bimodal(
                a.Double("p", 0.2), a.Double("slowdown", 10), a.Double("base", 1), a.Bool("persistent", true), a.Int("seed", 0)))),
        new("constant", "the same time for every worker [time=1]",
            a => ParameterChecks.Build(() => new ConstantDelay(a.Double("time", 1)))),
        new("crash", "workers stop answering (+∞) from a round on, others follow base: round=R workers=I,J [base=NAME:key=value…]",
            CreateCrash),
        new("trace", "times replayed from a CSV file (a line per round, a column per worker): file=PATH [after-end=error|wrap] [header=false]",
            CreateTrace),
    ];

    private static IDelayModel CreateCrash(SpecArguments args)
    {
        if (!args.Has("round") || !args.Has("workers"))
        {
            throw new SpecException("'crash' needs round=R (the first round missed) and workers=I,J,… (who crashes), e.g. 'crash round=10 workers=0,3'");
        }

        int round = args.Int("round", 0, min: 0);
        var workers = ParameterChecks.Indices(args, "workers", args.Text("workers")!);
        var baseText = args.Text("base", "shifted-exp")!;
        IDelayModel baseModel;
        try
        {
            baseModel = Registry.Delays.Create(baseText.Replace(':', ' '), args.Files);
        }
        catch (SpecException e)
        {
            throw new SpecException($"'crash': base={baseText} is invalid: {e.Message}");
        }

        return ParameterChecks.Build(() => new Crash(round, workers, baseModel));
    }

    private static IDelayModel CreateTrace(SpecArguments args)
    {
        var file = args.Text("file") ?? throw new SpecException("'trace' needs file=PATH (a CSV file: a line per round, a column per worker)");
        bool wrap = args.Choice("after-end", "error", "error", "wrap") == "wrap";
        bool header = args.Bool("header", false);
        var files = args.Files ?? throw new SpecException(
            $"'trace' reads file={file}, but no file reader was given: Dstar.Core reads no files, so build it through the engine (a config, dstar simulate) or pass an ISpecFiles");
        var lines = files.ReadLines(file);
        return ParameterChecks.Build(() => Trace.Parse(lines, file, wrap, header));
    }
}

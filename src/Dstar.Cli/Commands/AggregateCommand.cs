using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Dstar.Cli.Npy;
using Dstar.Cli.Output;
using Dstar.Core;
using Dstar.Core.Specs;

namespace Dstar.Cli.Commands;

/// <summary>
/// <c>dstar aggregate --rule SPEC [--pre SPEC]... --input X.npy [--validation G0.npy] [--f N] [--seed S]
/// --output OUT.npy [--report R.json]</c>: runs one rule, after optional pre-aggregators, on the rows of a NumPy
/// file and writes the aggregate as a float32 .npy of shape (d,).
/// </summary>
/// <remarks>
/// Zeno is refused: it scores rows by the validation loss F_val(x − γxᵢ) at the current parameters x, and a gradient
/// file carries neither the parameters nor a loss. It runs inside the simulator, where both exist.
/// </remarks>
public static class AggregateCommand
{
    /// <summary>Everything <c>dstar aggregate</c> needs, as parsed from its options.</summary>
    /// <param name="Rule">The rule spec, e.g. <c>krum f=3</c>.</param>
    /// <param name="Pre">Pre-aggregator specs, applied in order.</param>
    /// <param name="Input">The (n, d) gradients.</param>
    /// <param name="Validation">The (d,) validation gradient g₀, when given.</param>
    /// <param name="ByzantineCount">f for rules whose spec does not give one.</param>
    /// <param name="Seed">Seed of the random source (bucketing, median-of-means).</param>
    /// <param name="Output">Where the (d,) float32 aggregate goes.</param>
    /// <param name="Report">Where the JSON report goes, when given.</param>
    public sealed record Arguments(
        string Rule,
        IReadOnlyList<string> Pre,
        string Input,
        string? Validation,
        int ByzantineCount,
        int Seed,
        string Output,
        string? Report);

    /// <summary>Builds the <c>aggregate</c> command.</summary>
    public static Command Create()
    {
        var rule = new Option<string>("--rule")
        {
            Description = "the rule as a spec, e.g. \"krum f=3\" or \"dstar tau=2 center=median\"",
            Required = true,
        };
        var pre = new Option<string[]>("--pre")
        {
            Description = "a pre-aggregator spec applied before the rule, e.g. \"nnm\"; repeat for a chain, applied in order",
        };
        var input = new Option<string>("--input")
        {
            Description = "the gradients: a .npy file of float32 or float64, C order, shape (n, d)",
            Required = true,
        };
        var validation = new Option<string?>("--validation")
        {
            Description = "the server's validation gradient g0: a .npy file of shape (d,) (dstar, fltrust need it)",
        };
        var byzantine = new Option<int>("--f")
        {
            Description = "f, the number of rows to assume Byzantine, for rules whose spec gives no f=",
            DefaultValueFactory = _ => 0,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "seed of the random source (bucketing, dstar center=median-of-means)",
            DefaultValueFactory = _ => 0,
        };
        var output = new Option<string>("--output")
        {
            Description = "where to write the aggregate: float32 .npy of shape (d,)",
            Required = true,
        };
        var report = new Option<string?>("--report")
        {
            Description = "where to write a JSON report: rule, n, d, kept rows, weights, non-finite rows, seconds",
        };

        var command = new Command("aggregate", "Aggregate the rows of a .npy file with one robust rule (after optional pre-aggregators).")
        {
            rule, pre, input, validation, byzantine, seed, output, report,
        };
        command.SetAction(parsed =>
        {
            var arguments = new Arguments(
                parsed.GetValue(rule)!,
                parsed.GetValue(pre) ?? [],
                parsed.GetValue(input)!,
                parsed.GetValue(validation),
                parsed.GetValue(byzantine),
                parsed.GetValue(seed),
                parsed.GetValue(output)!,
                parsed.GetValue(report));
            var configuration = parsed.InvocationConfiguration;
            return Run(arguments, configuration.Output, configuration.Error);
        });
        return command;
    }

    /// <summary>Runs the command; failures print one line on <paramref name="error"/> and return 1.</summary>
    public static int Run(Arguments arguments, TextWriter output, TextWriter error) =>
        CommandGuard.Guard("aggregate", error, () => Execute(arguments, output));

    private static int Execute(Arguments arguments, TextWriter console)
    {
        if (arguments.ByzantineCount < 0)
        {
            throw new CommandFailure($"--f must be ≥ 0, got {arguments.ByzantineCount}");
        }

        var ruleSpec = Parse("--rule", arguments.Rule);
        var preSpecs = arguments.Pre.Select(p => Parse("--pre", p)).ToArray();
        var rule = Registry.Rules.Create(ruleSpec);
        var preAggregators = preSpecs.Select(spec => Registry.PreAggregators.Create(spec)).ToArray();
        if (rule.Name == "zeno")
        {
            throw new CommandFailure(
                "zeno needs the validation loss F_val(x) and the parameters x, which a gradient file does not carry; "
                + "run it in the simulator, or time it with 'dstar bench aggregators'");
        }

        var (values, n, d) = NpyReader.ReadMatrix(arguments.Input);
        var context = new AggregationContext(arguments.ByzantineCount, new Random(arguments.Seed));
        if (arguments.Validation is { } validationPath)
        {
            context.ValidationGradient = NpyReader.ReadVector(validationPath, d);
        }

        var batch = new GradientBatch(values, n, d);
        var aggregate = new float[d];
        var clock = Stopwatch.StartNew();
        var current = batch;
        foreach (var preAggregator in preAggregators)
        {
            current = preAggregator.Apply(current, context);
        }

        int rowsSeen = current.Count;
        var result = rule.Aggregate(current, context, aggregate);
        double seconds = clock.Elapsed.TotalSeconds;

        NpyWriter.Write(arguments.Output, aggregate, d);
        if (arguments.Report is { } reportPath)
        {
            var contents = new AggregationReportJson.Contents(
                ruleSpec.ToString(), preSpecs.Select(s => s.ToString()).ToArray(), n, d, arguments.ByzantineCount, rowsSeen, result, seconds);
            File.WriteAllText(reportPath, AggregationReportJson.Serialize(contents));
        }

        var chain = string.Join(" → ", preSpecs.Select(s => s.ToString()).Append(ruleSpec.ToString()));
        var nonFinite = result.NonFiniteRows.Count == 0 ? "" : $", {result.NonFiniteRows.Count} non-finite dropped";
        console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{chain}: n={n} d={d}, kept {result.Kept.Count} of {rowsSeen} rows{nonFinite}, {seconds * 1e3:F1} ms → {arguments.Output}"));
        return 0;
    }

    private static Spec Parse(string option, string text)
    {
        try
        {
            return Spec.Parse(text);
        }
        catch (SpecException e)
        {
            throw new CommandFailure($"{option}: {e.Message}");
        }
    }
}

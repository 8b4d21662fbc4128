using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Dstar.Cli.Failures;
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

    /// <summary>Runs the command; a failure prints one line on <paramref name="error"/> and returns its exit code (<see cref="ExitCodes"/>).</summary>
    public static int Run(Arguments arguments, TextWriter output, TextWriter error) =>
        CommandRunner.Run("aggregate", error, _ => Execute(arguments, output));

    private static int Execute(Arguments arguments, TextWriter console)
    {
        if (arguments.ByzantineCount < 0)
        {
            throw new CommandFailure($"--f must be ≥ 0, got {arguments.ByzantineCount}");
        }

        CheckDestinations(arguments);

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
        if (arguments.Validation is null && rule.MissingValidationGradient(n, arguments.ByzantineCount) is { } missing)
        {
            // The rule's own refusal, with the option that gives it g₀.
            throw new CommandFailure($"{missing}: give it with --validation G0.npy", FailureKind.RunFailed);
        }

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

        // The report goes to a temporary file first: if it cannot be written, the aggregate is not written either.
        string? reportTemporary = null;
        if (arguments.Report is { } reportPath)
        {
            var contents = new AggregationReportJson.Contents(
                ruleSpec.ToString(), preSpecs.Select(s => s.ToString()).ToArray(), n, d, arguments.ByzantineCount, rowsSeen, result, seconds);
            reportTemporary = Path.GetFullPath(reportPath) + ".tmp-" + Environment.ProcessId;
            File.WriteAllText(reportTemporary, AggregationReportJson.Serialize(contents));
        }

        try
        {
            NpyWriter.Write(arguments.Output, aggregate, d);
            if (reportTemporary is not null)
            {
                File.Move(reportTemporary, arguments.Report!, overwrite: true);
                reportTemporary = null;
            }
        }
        finally
        {
            if (reportTemporary is not null)
            {
                File.Delete(reportTemporary);
            }
        }

        var chain = string.Join(" → ", preSpecs.Select(s => s.ToString()).Append(ruleSpec.ToString()));
        var nonFinite = result.NonFiniteRows.Count == 0 ? "" : $", {result.NonFiniteRows.Count} non-finite dropped";
        console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{chain}: n={n} d={d}, kept {result.Kept.Count} of {rowsSeen} rows{nonFinite}, {seconds * 1e3:F1} ms → {arguments.Output}"));
        return 0;
    }

    // Refuses two outputs onto one file, or an output onto an input, before anything is read or written.
    private static void CheckDestinations(Arguments arguments)
    {
        var output = Path.GetFullPath(arguments.Output);
        var inputs = new[] { ("--input", arguments.Input), ("--validation", arguments.Validation) }
            .Where(p => p.Item2 is not null)
            .Select(p => (Option: p.Item1, Path: Path.GetFullPath(p.Item2!)))
            .ToArray();
        if (arguments.Report is { } report)
        {
            var full = Path.GetFullPath(report);
            if (full == output)
            {
                throw new CommandFailure($"--report and --output are the same file '{arguments.Output}': the report would overwrite the aggregate; give two paths");
            }

            if (inputs.FirstOrDefault(i => i.Path == full) is { Option: { } option })
            {
                throw new CommandFailure($"--report '{report}' is the {option} file: it would be overwritten; give another path");
            }

            if (Directory.Exists(full))
            {
                throw new CommandFailure($"--report '{report}' is a directory", FailureKind.Data);
            }
        }

        if (inputs.FirstOrDefault(i => i.Path == output) is { Option: { } read })
        {
            throw new CommandFailure($"--output '{arguments.Output}' is the {read} file: the aggregate would overwrite it; give another path");
        }

        if (Directory.Exists(output))
        {
            throw new CommandFailure($"--output '{arguments.Output}' is a directory", FailureKind.Data);
        }
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
